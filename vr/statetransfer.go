package vr

// State transfer (VR-PROTOCOL.md §6; paper §5.2): a replica that learns it
// is missing ops fetches them from a replica that is normal in the view.

// requestState asks replica `from` for the ops after this replica's
// op-number in its current view (a gap in the log). It asks at most once per
// heartbeat interval; the next PREPARE or COMMIT asks again if needed.
func (r *Replica) requestState(from int) {
	//lab:begin B
	if r.getStateSent && r.now-r.getStateAt < r.opts.HeartbeatTicks {
		return
	}
	r.getStateSent = true
	r.getStateAt = r.now
	r.send(from, Message{Type: MsgGetState, View: r.view, OpNumber: r.opNumber})
	//lab:end
}

// startStateTransfer is a replica that heard from the primary of view v,
// which it has not (yet) entered normally: it missed the view's start. Ops
// after its commit-number may have been replaced by that view, so it asks
// for the view's log from its committed point on.
//
// [fix] It does NOT adopt view v or set last-normal-view yet: with a log cut
// short, a last-normal-view of v would make that short log win the next view
// change over a longer log holding committed ops. Status state-transfer keeps
// it out of view v until NEWSTATE arrives.
//
// It also keeps its log whole until then, cutting it back only when NEWSTATE
// replaces the uncommitted part. Until then it is just a replica that has not
// heard of view v, and it may safely take part in a view change above v with
// that log. (Cutting it at once, as the paper does, loses a committed op when
// the replica then joins a view change: its PREPAREOK may have been one of
// the f that committed an op it just threw away.)
func (r *Replica) startStateTransfer(v, from int) {
	//lab:begin B
	if r.status == StateTransfer && v <= r.stateTransferView {
		return
	}
	r.logf("state", "R%d in view %d (%v) heard of view %d: state transfer from R%d", r.id, r.view, r.status, v, from)
	r.status = StateTransfer
	r.stateTransferView = v
	r.stateTransferTry = from
	r.resetViewChangeTimer()
	r.sendGetState()
	//lab:end
}

// committedPoint is the op-number up to which this replica's log is surely
// the same as every later view's: the ops it knows are committed.
func (r *Replica) committedPoint() int {
	return max(r.executed, min(r.commitNumber, r.opNumber))
}

// sendGetState asks replica stateTransferTry for view stateTransferView.
func (r *Replica) sendGetState() {
	//lab:begin B
	r.send(r.stateTransferTry, Message{Type: MsgGetState, View: r.stateTransferView, OpNumber: r.committedPoint()})
	//lab:end
}

// tickStateTransfer resends GETSTATE, to another replica each time, in case
// the one asked is down or the messages were lost. If no answer comes within
// a view-change timeout (no replica is normal in that view any more), it
// starts a view change past it, as a backup whose primary went silent would.
func (r *Replica) tickStateTransfer() {
	//lab:begin B
	r.silentTicks++
	r.resendTicks++
	if r.silentTicks >= r.viewChangeTimeout {
		r.startViewChange(max(r.view, r.stateTransferView) + 1)
		return
	}
	if r.resendTicks < r.opts.HeartbeatTicks {
		return
	}
	r.resendTicks = 0
	for {
		r.stateTransferTry = (r.stateTransferTry + 1) % len(r.acked)
		if r.stateTransferTry != r.id && r.inConfig(r.stateTransferTry) {
			break
		}
	}
	r.sendGetState()
	//lab:end
}

// onGetState answers with the log after the requester's op-number, if this
// replica is normal in the view asked about. A requester behind this
// replica's checkpoint gets the checkpoint too.
func (r *Replica) onGetState(m Message) {
	//lab:begin B
	if r.status != Normal || r.view != m.View {
		return
	}
	from := min(m.OpNumber, r.opNumber)
	reply := Message{Type: MsgNewState, View: r.view, OpNumber: r.opNumber, CommitNumber: r.commitNumber}
	if from < r.logStart {
		from = r.logStart
		reply.Checkpoint = r.checkpoint
	}
	reply.LogStart = from
	reply.Entries = r.logAfter(from)
	r.send(m.From, reply)
	//lab:end
}

// onNewState takes the ops a GETSTATE asked for: filling a gap in this view,
// or (state-transfer) entering the newer view now that its log is here.
func (r *Replica) onNewState(m Message) {
	//lab:begin B
	switch {
	case r.status == Normal && m.View == r.view:
		if !r.extendLog(m.LogStart, m.Entries, m.Checkpoint) {
			return
		}
		r.getStateSent = false
	case r.status == StateTransfer && m.View >= r.stateTransferView:
		if m.LogStart > r.committedPoint() && m.Checkpoint == nil {
			return // cannot fill the gap; keep the log whole
		}
		// Now replace the uncommitted ops with the view's.
		r.truncateLog(r.committedPoint())
		if !r.extendLog(m.LogStart, m.Entries, m.Checkpoint) {
			return
		}
		r.logf("state", "R%d enters view %d by state transfer (n=%d k=%d)", r.id, m.View, m.OpNumber, m.CommitNumber)
		r.view = m.View
		r.enterNormal()
		clear(r.acked)
		r.getStateSent = false
	default:
		return
	}
	r.commitNumber = max(r.commitNumber, m.CommitNumber)
	if r.opNumber > r.commitNumber && !r.isPrimary() {
		r.send(r.primaryOf(r.view), Message{Type: MsgPrepareOK, View: r.view, OpNumber: r.opNumber})
	}
	r.executeCommitted()
	//lab:end
}

func (r *Replica) inConfig(p int) bool {
	for _, q := range r.config {
		if q == p {
			return true
		}
	}
	return false
}
