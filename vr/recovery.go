package vr

// Recovery (VR-PROTOCOL.md §4; paper §4.3). VR keeps nothing on disk: a
// restarted replica has lost everything and learns its state from the
// others before it takes part in anything. It is safe only while at most f
// replicas are down at once: a quorum of normal replicas must be left to
// answer.

// startRecovery asks every replica for its state, with a fresh nonce so that
// answers meant for an earlier recovery (an earlier life) are not taken.
func (r *Replica) startRecovery() {
	//lab:begin C
	r.nonce = r.rand.Uint64()
	clear(r.recoveryResponses)
	r.logf("recovery", "R%d recovering with nonce %d", r.id, r.nonce)
	r.broadcastAll(Message{Type: MsgRecovery, Nonce: r.nonce})
	//lab:end
}

// tickRecovery resends RECOVERY until enough answers arrive.
func (r *Replica) tickRecovery() {
	//lab:begin C
	r.resendTicks++
	if r.resendTicks >= r.opts.HeartbeatTicks {
		r.resendTicks = 0
		r.broadcastAll(Message{Type: MsgRecovery, Nonce: r.nonce})
	}
	//lab:end
}

// onRecovery answers a recovering replica. Only a normal replica answers, and
// only the primary sends its log: the primary's log is the view's truth.
func (r *Replica) onRecovery(m Message) {
	//lab:begin C
	if r.status != Normal {
		return
	}
	resp := Message{Type: MsgRecoveryResponse, View: r.view, Nonce: m.Nonce}
	if r.isPrimary() {
		resp.LogStart = r.logStart
		resp.Entries = r.logAfter(r.logStart)
		resp.Checkpoint = r.checkpoint
		resp.OpNumber = r.opNumber
		resp.CommitNumber = r.commitNumber
	}
	r.send(m.From, resp)
	//lab:end
}

// onRecoveryResponse collects answers. With f+1 of them, including the
// primary's for the highest view among them ([fix]: not an older view's
// primary), the replica adopts that primary's state and becomes normal.
func (r *Replica) onRecoveryResponse(m Message) {
	//lab:begin C
	if r.status != Recovering || m.Nonce != r.nonce {
		return
	}
	if old := r.recoveryResponses[m.From]; old == nil || m.View >= old.View {
		r.recoveryResponses[m.From] = &m
	}
	if countOthers(r, r.recoveryResponses) < r.quorum {
		return
	}
	view := 0
	for _, p := range r.config {
		if resp := r.recoveryResponses[p]; resp != nil {
			view = max(view, resp.View)
		}
	}
	primary := r.recoveryResponses[r.primaryOf(view)]
	if primary == nil || primary.View != view || r.primaryOf(view) == r.id {
		return // wait for the latest primary's own answer
	}
	if !r.replaceLog(primary.LogStart, primary.Entries, primary.Checkpoint) {
		return
	}
	r.logf("recovery", "R%d recovered in view %d from R%d (n=%d k=%d)", r.id, view, primary.From, r.opNumber, primary.CommitNumber)
	r.view = view
	r.commitNumber = max(r.commitNumber, min(primary.CommitNumber, r.opNumber))
	r.enterNormal()
	r.executeCommitted()
	if r.opNumber > r.commitNumber {
		r.send(primary.From, Message{Type: MsgPrepareOK, View: r.view, OpNumber: r.opNumber})
	}
	//lab:end
}
