package vr

// The log and the ways it changes. Every change keeps three facts true:
// opNumber == logStart + len(log); logStart is the latest checkpoint's
// op-number; and logStart <= executed, so the ops not yet executed are held.

// appendEntry appends one op at the primary.
func (r *Replica) appendEntry(e Entry) {
	r.log = append(r.log, e)
	r.opNumber++
}

// extendLog appends the ops of a log piece (start, start+len(entries)] that
// this replica lacks. The piece must come from the same view as this
// replica's log (or start at or below its commit-number), so the ops both hold
// are the same. A piece that starts past the end of the log is usable only
// with the checkpoint at its start.
func (r *Replica) extendLog(start int, entries []Entry, cp *Checkpoint) bool {
	if start > r.opNumber {
		if cp == nil || !r.installCheckpoint(cp) {
			return false
		}
		r.rebuildPending() // the log before the checkpoint is gone
	}
	if end := start + len(entries); end > r.opNumber {
		added := entries[r.opNumber-start:]
		r.log = append(r.log, added...)
		r.opNumber = end
		r.clients.pendingAppended(added)
	}
	return true
}

// replaceLog makes the log (start, start+len(entries)] this replica's log: a
// view change, STARTVIEW or recovery decided it. Ops up to this replica's
// committed point are committed, hence the same in every later log, so it
// keeps its own copies of those it has; if the new log begins after them, it
// needs the checkpoint at start. It returns false, changing nothing, for a
// log that cannot be adopted (a malformed message, or a STARTVIEW that
// counted on ops this replica does not hold: it catches up by state
// transfer instead).
func (r *Replica) replaceLog(start int, entries []Entry, cp *Checkpoint) bool {
	end := start + len(entries)
	if end < r.executed {
		return false // a decided log holds every committed op
	}
	if start > r.committedPoint() {
		if cp == nil || !r.installCheckpoint(cp) {
			return false
		}
		r.log = append([]Entry(nil), entries...)
	} else {
		// Keep our entries up to start (or drop the new log's entries up to
		// our logStart), then take the new log's.
		var keep []Entry
		if start >= r.logStart {
			keep = append(keep, r.log[:start-r.logStart]...)
		} else {
			entries = entries[r.logStart-start:]
		}
		r.log = append(keep, entries...)
	}
	r.opNumber = end
	r.rebuildPending()
	return true
}

// truncateLog discards the ops after op-number op (never executed ones).
func (r *Replica) truncateLog(op int) {
	r.assert(op >= r.executed, "truncating to %d below executed op %d", op, r.executed)
	if op < r.opNumber {
		r.log = r.log[:op-r.logStart]
		r.opNumber = op
		r.rebuildPending()
	}
}

// entry returns the log entry of op-number op, which must be held.
func (r *Replica) entry(op int) Entry {
	if op <= r.logStart || op > r.opNumber { // (checked before assert: its arguments cost an allocation)
		r.assert(false, "op %d not in log (%d..%d]", op, r.logStart, r.opNumber)
	}
	return r.log[op-r.logStart-1]
}

// logAfter returns a copy of the log entries after op-number op.
func (r *Replica) logAfter(op int) []Entry {
	if op < r.logStart {
		op = r.logStart
	}
	return append([]Entry(nil), r.log[op-r.logStart:]...)
}
