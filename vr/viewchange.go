package vr

// View change (VR-PROTOCOL.md §3; paper §4.2). Views replace elections: the
// primary of view v is configuration[v mod n]. When backups stop hearing the
// primary they move to the next view; the new primary collects the logs of a
// quorum, picks the one that must hold every committed op, and starts the
// view with it.

// startViewChange moves this replica to view v and asks the others to join
// (§3 step 1).
func (r *Replica) startViewChange(v int) {
	if r.promised() {
		return // Part F (lease.go): a lease this replica granted has not expired yet
	}
	//lab:begin A
	r.logf("view", "R%d starts view change to view %d (primary %d)", r.id, v, r.primaryOf(v))
	r.view = v
	r.status = ViewChange
	r.doViewChangeSent = false
	clear(r.startViewChanges)
	clear(r.doViewChanges)
	r.resetViewChangeTimer()
	r.broadcast(Message{Type: MsgStartViewChange, View: v, CommitNumber: r.committedPoint()})
	//lab:end
}

// onStartViewChange counts the replicas that want view m.View (§3 steps 1–2).
func (r *Replica) onStartViewChange(m Message) {
	r.hearCommitted(m)
	//lab:begin A
	if !r.joinViewChange(m) {
		return
	}
	r.startViewChanges[m.From] = true
	r.maybeSendDoViewChange()
	//lab:end
}

// joinViewChange handles the view of a STARTVIEWCHANGE or DOVIEWCHANGE and
// reports whether the message belongs to the view change in progress here.
// A higher view is joined at once; a replica still asking about a view that
// has already started gets the STARTVIEW again (it was lost).
func (r *Replica) joinViewChange(m Message) bool {
	//lab:begin A
	if r.status == StateTransfer && m.View <= r.stateTransferView {
		return false // the group has moved past that view; keep catching up
	}
	if m.View < r.view {
		return false
	}
	if m.View > r.view {
		r.startViewChange(m.View)
	}
	if r.status == Normal {
		if r.isPrimary() {
			r.send(m.From, r.startViewMessage(m.From))
		}
		return false
	}
	return r.status == ViewChange
	//lab:stub return false
	//lab:end
}

// maybeSendDoViewChange sends DOVIEWCHANGE to the new primary once f other
// replicas want this view (§3 step 2). Its own STARTVIEWCHANGE does not count.
func (r *Replica) maybeSendDoViewChange() {
	//lab:begin A
	if r.doViewChangeSent || countOthers(r, r.startViewChanges) < r.quorum-1 {
		return
	}
	r.doViewChangeSent = true
	r.sendDoViewChange()
	//lab:end
}

// sendDoViewChange sends this replica's log to the new primary, or records
// it when this replica is the new primary.
func (r *Replica) sendDoViewChange() {
	//lab:begin A
	m := Message{
		Type:           MsgDoViewChange,
		View:           r.view,
		LastNormalView: r.lastNormalView,
		LogStart:       r.logStart,
		Entries:        r.logAfter(r.logStart),
		Checkpoint:     r.checkpoint,
		OpNumber:       r.opNumber,
		CommitNumber:   r.commitNumber,
	}
	if p := r.primaryOf(r.view); p != r.id {
		r.trimDoViewChange(&m)
		r.send(p, m)
		return
	}
	m.From = r.id
	r.doViewChanges[r.id] = &m
	r.maybeStartView()
	//lab:end
}

// hearCommitted records the committed point the sender of a
// STARTVIEWCHANGE or DOVIEWCHANGE gives for view m.View: ops it holds and
// knows committed, hence the same in every log of the view. It keeps the
// lowest point a replica gave for the view: one that restarted may give
// less than its earlier life did.
func (r *Replica) hearCommitted(m Message) {
	if m.View < r.view { // (m.From is a replica's: Step validated it)
		return
	}
	op := m.CommitNumber // a STARTVIEWCHANGE gives its sender's committedPoint
	if m.Type == MsgDoViewChange {
		op = min(m.CommitNumber, m.OpNumber) // ops it holds, known committed
	}
	h := &r.committedHeard[m.From]
	if h.known && h.epoch == r.epoch && h.view == m.View {
		h.op = min(h.op, op)
		return
	}
	*h = heardCommitted{known: true, epoch: r.epoch, view: m.View, op: op}
}

// heardFor returns the committed point replica p gave for this replica's
// view, if it gave one. Points heard for other views and epochs stay in
// committedHeard until replaced, and are never used.
func (r *Replica) heardFor(p int) (op int, ok bool) {
	h := r.committedHeard[p]
	return h.op, h.known && h.epoch == r.epoch && h.view == r.view
}

// trimDoViewChange cuts this replica's DOVIEWCHANGE down to the ops the new
// primary may lack, when the new primary's STARTVIEWCHANGE for this view
// gave its committed point: the log after both replicas' committed points,
// and no checkpoint. Ops up to those points are committed, hence the same
// in both logs, and the new primary keeps its own copies (replaceLog). A
// new primary that no longer holds them (it restarted since) cannot adopt
// the log, and waits for this replica's next DOVIEWCHANGE, sent after it
// has heard the new primary's lower point. (VR-PROTOCOL.md §5 [choice]:
// otherwise the log since the checkpoint and the checkpoint itself, the
// service's whole state, would go to the new primary at every view change.)
func (r *Replica) trimDoViewChange(m *Message) {
	op, ok := r.heardFor(r.primaryOf(m.View))
	if !ok {
		return
	}
	held := min(op, r.committedPoint()) // at most op-number (executed ≤ op-number, checks.go)
	if held < m.LogStart {
		return // the new primary is behind this replica's checkpoint: it needs it
	}
	m.Entries = m.Entries[held-m.LogStart:]
	m.LogStart, m.Checkpoint = held, nil
}

// onDoViewChange is the new primary collecting logs (§3 step 3).
func (r *Replica) onDoViewChange(m Message) {
	r.hearCommitted(m)
	//lab:begin A
	if !r.joinViewChange(m) || r.primaryOf(r.view) != r.id {
		return
	}
	r.doViewChanges[m.From] = &m
	r.maybeStartView()
	//lab:end
}

// maybeStartView starts the view once f+1 replicas, this one included, sent
// DOVIEWCHANGE. The log comes from the message with the largest
// last-normal-view, then the largest op-number: a longer log of an older view
// may hold ops a later view already replaced.
func (r *Replica) maybeStartView() {
	//lab:begin A
	if r.doViewChanges[r.id] == nil || countOthers(r, r.doViewChanges)+1 < r.quorum {
		return
	}
	var best *Message
	maxCommit := 0
	for _, p := range r.config { // configuration order: the choice is deterministic
		d := r.doViewChanges[p]
		if d == nil {
			continue
		}
		if best == nil || d.LastNormalView > best.LastNormalView ||
			(d.LastNormalView == best.LastNormalView && d.OpNumber > best.OpNumber) {
			best = d
		}
		maxCommit = max(maxCommit, d.CommitNumber)
	}
	if !r.replaceLog(best.LogStart, best.Entries, best.Checkpoint) {
		r.logf("view", "R%d cannot adopt the log of R%d for view %d", r.id, best.From, r.view)
		return
	}
	r.logf("view", "R%d is primary of view %d: log of R%d (v'=%d, n=%d), k=%d", r.id, r.view, best.From, best.LastNormalView, best.OpNumber, maxCommit)
	r.commitNumber = max(r.commitNumber, min(maxCommit, r.opNumber))
	r.enterNormal()
	clear(r.acked)
	r.broadcastStartView()
	r.prepared = r.opNumber // STARTVIEW brings each backup's log up to op-number
	r.heldBytes = 0
	r.idleTicks = 0
	r.commitSent = r.commitNumber
	r.executeCommitted()
	//lab:end
}

// broadcastStartView sends every other replica of the configuration the
// STARTVIEW of this replica's view.
func (r *Replica) broadcastStartView() {
	for _, p := range r.config {
		if p != r.id {
			r.send(p, r.startViewMessage(p))
		}
	}
}

// startViewMessage is the STARTVIEW of this replica's view for replica to:
// the log after to's committed point, if to gave it for this view (in its
// STARTVIEWCHANGE or DOVIEWCHANGE), else the whole log with the checkpoint.
// A replica's ops up to its committed point are committed, hence the same
// in the new log, and while it waits for STARTVIEW its log does not change;
// replaceLog keeps them. A replica that restarted since cannot adopt it; it
// gets the view by state transfer, or by its next STARTVIEWCHANGE, whose
// lower point the next STARTVIEW uses. (VR-PROTOCOL.md §5 [choice]: the log
// since the checkpoint, 10,000 ops with the defaults, would otherwise go to
// every backup at every view change, and a failover would wait for it.)
func (r *Replica) startViewMessage(to int) Message {
	m := Message{
		Type:         MsgStartView,
		View:         r.view,
		LogStart:     r.logStart,
		Checkpoint:   r.checkpoint,
		OpNumber:     r.opNumber,
		CommitNumber: r.commitNumber,
	}
	if op, ok := r.heardFor(to); ok {
		if held := min(op, r.opNumber); held >= r.logStart {
			m.LogStart, m.Checkpoint = held, nil
		}
	}
	m.Entries = r.logAfter(m.LogStart)
	return m
}

// onStartView is a replica entering the view the new primary started
// (§3 step 4).
func (r *Replica) onStartView(m Message) {
	//lab:begin A
	if m.View < r.view || (m.View == r.view && r.status == Normal) || m.From != r.primaryOf(m.View) {
		return
	}
	if r.status == StateTransfer && m.View < r.stateTransferView {
		return
	}
	if !r.replaceLog(m.LogStart, m.Entries, m.Checkpoint) {
		return
	}
	r.logf("view", "R%d enters view %d as backup (n=%d k=%d)", r.id, m.View, r.opNumber, m.CommitNumber)
	r.view = m.View
	r.enterNormal()
	//lab:end
	//lab:begin B
	r.commitNumber = max(r.commitNumber, min(m.CommitNumber, r.opNumber))
	if r.opNumber > r.commitNumber {
		// Uncommitted ops in the new log: acknowledge them so they can commit.
		r.send(m.From, Message{Type: MsgPrepareOK, View: r.view, OpNumber: r.opNumber})
	}
	r.executeCommitted()
	//lab:end
	r.answerHeartbeat(m) // Part F (lease.go): with leases on, grant the new primary a lease at once
}

// enterNormal makes this replica normal in its current view.
func (r *Replica) enterNormal() {
	r.status = Normal
	r.lostState = r.lostState && r.reconfigPending() // (part E) it recovered the old epoch only
	r.lastNormalView = r.view
	r.failedViewChanges = 0
	r.viewStartOp = r.opNumber
	r.resetViewChangeTimer()
	r.announceEpochStarted() // a new member now holds the epoch's state (part E)
	r.resetLeases()          // Part F (lease.go)
}

// tickViewChange resends this replica's messages while the view change is
// stalled ([fix]: the first copies may have been lost), and moves on to the
// next view when it does not finish in time — e.g. its primary is down.
func (r *Replica) tickViewChange() {
	//lab:begin A
	r.silentTicks++
	r.resendTicks++
	if r.silentTicks >= r.viewChangeTimeout {
		r.failedViewChanges++
		r.startViewChange(r.view + 1)
		return
	}
	if r.resendTicks >= r.opts.HeartbeatTicks {
		r.resendTicks = 0
		r.broadcast(Message{Type: MsgStartViewChange, View: r.view, CommitNumber: r.committedPoint()})
		if r.doViewChangeSent && r.primaryOf(r.view) != r.id {
			r.sendDoViewChange()
		}
	}
	//lab:end
}

// countOthers counts the replicas other than this one with a vote (a
// non-zero entry) in votes, which is indexed by replica number.
func countOthers[T comparable](r *Replica, votes []T) int {
	var none T
	n := 0
	for _, p := range r.config {
		if p != r.id && votes[p] != none {
			n++
		}
	}
	return n
}

// heardCommitted is a committed point another replica gave in a message of
// epoch epoch, view view.
type heardCommitted struct {
	known           bool
	epoch, view, op int
}
