package vr

import "sort"

// clientTable gives at-most-once semantics (VR-PROTOCOL.md §2): for each
// client, the latest request it executed with its result, and the request it
// has in progress in the log, if any.
//
// The two halves are kept apart on purpose (§3 [fix]): executed follows the
// executed state (and goes into checkpoints); pending follows the log, so when
// a view change replaces the log, rebuildPending forgets requests the new log
// dropped and the client's retry is accepted again instead of being taken for
// a duplicate forever.
type clientTable struct {
	executed map[int64]ClientRecord // latest executed request per client
	pending  map[int64]int          // request-number in the log, not yet executed
}

// requestVerdict is what the primary does with an incoming request.
type requestVerdict int

const (
	acceptRequest requestVerdict = iota // new: prepare it
	resendReply                         // already executed: send the recorded reply again
	dropRequest                         // old, or in progress: ignore it
)

// check classifies request s of client c (§2 step 2).
func (t *clientTable) check(c int64, s int) requestVerdict {
	//lab:begin B
	if p, ok := t.pending[c]; ok && s <= p {
		return dropRequest // in progress (or older than what is)
	}
	if e, ok := t.executed[c]; ok {
		if s == e.RequestNum {
			return resendReply
		}
		if s < e.RequestNum {
			return dropRequest
		}
	}
	return acceptRequest
	//lab:stub return acceptRequest
	//lab:end
}

// prepared records that request s of client c is now in the log.
func (t *clientTable) prepared(c int64, s int) {
	//lab:begin B
	t.pending[c] = s
	//lab:end
}

// executedOp records the result of request s of client c.
func (t *clientTable) executedOp(c int64, s int, result []byte) {
	//lab:begin B
	t.executed[c] = ClientRecord{ClientID: c, RequestNum: s, Result: result}
	if p, ok := t.pending[c]; ok && p <= s {
		delete(t.pending, c)
	}
	//lab:end
}

// rebuildPending recomputes the in-progress requests from the log entries
// after the executed op (§3 [fix]). Call it whenever the log is replaced.
func (r *Replica) rebuildPending() {
	//lab:begin B
	r.clients.pending = map[int64]int{}
	for op := r.executed + 1; op <= r.opNumber; op++ {
		e := r.entry(op)
		r.clients.pending[e.ClientID] = e.RequestNum
	}
	//lab:end
}

// records returns the executed half of the table sorted by client, for a
// checkpoint: a fixed order keeps equal tables byte-for-byte equal.
func (t *clientTable) records() []ClientRecord {
	out := make([]ClientRecord, 0, len(t.executed))
	for _, rec := range t.executed {
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out
}

// restore replaces the executed half of the table with a checkpoint's.
func (t *clientTable) restore(recs []ClientRecord) {
	t.executed = make(map[int64]ClientRecord, len(recs))
	for _, rec := range recs {
		t.executed[rec.ClientID] = rec
	}
}

// pendingAppended records ops just appended to the log (extendLog): their
// requests are pending, and later in the log than anything pending before.
func (t *clientTable) pendingAppended(entries []Entry) {
	for _, e := range entries {
		t.pending[e.ClientID] = e.RequestNum
	}
}
