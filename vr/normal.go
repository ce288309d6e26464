package vr

// Normal operation (VR-PROTOCOL.md §2; paper §4.1): the primary orders
// requests in its log, backups acknowledge them in order, and an op is
// committed once f backups hold it.

// onRequest is the primary accepting a client's request (§2 steps 1–3).
func (r *Replica) onRequest(m Message) {
	if r.status != Normal || !r.isPrimary() {
		r.reply(r.notPrimary(m))
		return
	}
	if m.ReadOnly && r.serveLeaseRead(m) {
		return // Part F (lease.go): answered from the state, under the primary's leases
	}
	//lab:begin E
	if r.reconfigPending() {
		return // the epoch is ending: the client retries in the next one
	}
	//lab:end
	//lab:begin B
	switch r.clients.check(m.ClientID, m.RequestNum) {
	case dropRequest:
		return
	case resendReply:
		r.resendReply(m)
		return
	}
	r.appendEntry(Entry{Op: m.Op, ClientID: m.ClientID, RequestNum: m.RequestNum})
	r.heldBytes += len(m.Op)
	r.clients.prepared(m.ClientID, m.RequestNum)
	if r.logging { // (boxing the arguments costs allocations on every op)
		r.logf("normal", "R%d prepares op %d for c%d s%d", r.id, r.opNumber, m.ClientID, m.RequestNum)
	}
	r.prepareBatch()  // sendPrepare(r.opNumber-1), batched: see batch.go
	r.advanceCommit() // a group of one commits at once
	//lab:end
}

// notPrimary tells a client which view and configuration this replica is
// in, so it can find the primary: NOTPRIMARY, or NEWEPOCH when the client's
// request was of an older epoch.
func (r *Replica) notPrimary(m Message) Message {
	t := MsgNotPrimary
	if m.Epoch < r.epoch {
		t = MsgNewEpoch
	}
	return Message{Type: t, View: r.view, Primary: r.primaryOf(r.view), ClientID: m.ClientID, RequestNum: m.RequestNum, Members: r.config}
}

// resendReply answers m, a retry of a client's executed request, with the
// recorded result.
func (r *Replica) resendReply(m Message) {
	//lab:begin B
	rec := r.clients.executed[m.ClientID]
	r.reply(Message{Type: MsgReply, View: r.view, ClientID: rec.ClientID, RequestNum: rec.RequestNum, Result: rec.Result})
	//lab:end
}

// sendPrepare sends PREPARE for the ops after op-number from to every backup.
// It also tells them the commit-number, so it doubles as a heartbeat.
func (r *Replica) sendPrepare(from int) {
	//lab:begin B
	r.broadcast(r.prepareAfter(from))
	r.idleTicks = 0
	r.commitSent = r.commitNumber
	//lab:end
}

// prepareAfter is the PREPARE of the ops after op-number from.
func (r *Replica) prepareAfter(from int) Message {
	from = max(from, r.logStart)
	return Message{
		Type:         MsgPrepare,
		View:         r.view,
		LogStart:     from,
		Entries:      r.logAfter(from),
		OpNumber:     r.opNumber,
		CommitNumber: r.commitNumber,
	}
}

// onPrepare is a backup appending the primary's ops, in order (§2 step 4).
func (r *Replica) onPrepare(m Message) {
	if !r.fromCurrentPrimary(m) {
		return
	}
	//lab:begin B
	r.silentTicks = 0
	if m.LogStart > r.opNumber {
		// A gap: earlier PREPAREs were lost. Fetch them; this one comes too.
		r.requestState(m.From)
		r.learnCommit(m.CommitNumber, m.From)
		return
	}
	r.extendLog(m.LogStart, m.Entries, nil)
	ok := Message{Type: MsgPrepareOK, View: r.view, OpNumber: r.opNumber}
	r.grantLease(m, &ok) // Part F (lease.go): with leases on, the acknowledgement grants one
	r.send(m.From, ok)
	r.learnCommit(m.CommitNumber, m.From)
	//lab:end
}

// onPrepareOK is the primary counting acknowledgements (§2 step 5). A
// PREPAREOK for op n acknowledges every op up to n.
func (r *Replica) onPrepareOK(m Message) {
	if r.status != Normal || m.View != r.view || !r.isPrimary() {
		return
	}
	r.takeLease(m) // Part F (lease.go): the lease the acknowledgement grants
	//lab:begin B
	if m.OpNumber > r.acked[m.From] {
		r.acked[m.From] = m.OpNumber
	}
	r.advanceCommit()
	//lab:end
}

// advanceCommit commits every op that f backups (plus the primary) hold.
func (r *Replica) advanceCommit() {
	//lab:begin B
	k := r.opNumber // the primary holds its whole log
	if r.quorum > 1 {
		// acks holds, per backup, how far its log goes; the (quorum-1)-th
		// largest is the highest op held by f backups.
		acks := r.scratch[:0]
		for _, p := range r.config {
			if p != r.id {
				acks = append(acks, min(r.acked[p], r.opNumber))
			}
		}
		r.scratch = acks
		k = kthLargest(acks, r.quorum-1)
	}
	if k > r.commitNumber {
		r.commitNumber = k
		r.executeCommitted()
		r.prepareBatch() // the ops in flight committed: send what gathered
	}
	//lab:end
}

// kthLargest returns the k-th largest value of xs (k ≥ 1). It reorders xs.
func kthLargest(xs []int, k int) int {
	s := xs
	for i := 0; i < k; i++ { // k is at most f: a partial selection sort is plenty
		for j := i + 1; j < len(s); j++ {
			if s[j] > s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[k-1]
}

// onCommit is a backup learning the commit-number from the primary's
// heartbeat (§2 step 6).
func (r *Replica) onCommit(m Message) {
	if !r.fromCurrentPrimary(m) {
		return
	}
	//lab:begin A
	r.silentTicks = 0 // the primary is alive
	//lab:end
	//lab:begin B
	r.learnCommit(m.CommitNumber, m.From)
	//lab:end
	r.answerHeartbeat(m) // Part F (lease.go): with leases on, a COMMITOK grants one
}

// fromCurrentPrimary decides whether a PREPARE or COMMIT is for this replica
// to process now: it must come from the primary of the view this replica is
// normal in. Messages of older views are dropped; a message of a newer view
// (or of this view while it is still changing) means this replica missed the
// view's start and must catch up first (§2 step 8).
func (r *Replica) fromCurrentPrimary(m Message) bool {
	if m.View < r.view || m.From != r.primaryOf(m.View) {
		return false
	}
	if m.View == r.view && r.status == Normal {
		return !r.isPrimary()
	}
	//lab:begin B
	r.startStateTransfer(m.View, m.From)
	//lab:end
	return false
}

// learnCommit records a commit-number heard from the primary and executes
// what it can. Ops it lacks are fetched by state transfer (§2 step 7).
func (r *Replica) learnCommit(k, primary int) {
	//lab:begin B
	if k > r.commitNumber {
		r.commitNumber = k
		r.stalledTicks = 0 // the primary hears enough backups to commit
	}
	if r.commitNumber > r.opNumber {
		// Committed ops are missing here (their PREPAREs were lost). Every
		// heartbeat asks again until they arrive.
		r.requestState(primary)
	}
	r.executeCommitted()
	//lab:end
}

// executeCommitted applies committed ops to the service strictly in order;
// the primary answers their clients (§2 steps 5 and 7).
func (r *Replica) executeCommitted() {
	//lab:begin B
	for r.executed < r.commitNumber && r.executed < r.opNumber {
		op := r.executed + 1
		e := r.entry(op)
		if e.Members != nil {
			r.executeReconfiguration(op, e) // part E
			continue
		}
		result := r.sm.Apply(e.Op)
		r.executed = op
		r.clients.executedOp(e.ClientID, e.RequestNum, result)
		if r.status == Normal && r.isPrimary() {
			r.reply(Message{Type: MsgReply, View: r.view, ClientID: e.ClientID, RequestNum: e.RequestNum, Result: result})
		}
		r.maybeCheckpoint()
	}
	//lab:end
}

// tickPrimary sends the COMMIT heartbeat when the primary has been idle for
// a heartbeat interval, and sooner when the commit-number moved and no
// PREPARE carried it, so backups execute promptly.
func (r *Replica) tickPrimary() {
	//lab:begin A
	r.idleTicks++
	//lab:end
	//lab:begin B
	if r.idleTicks >= batchWaitTicks {
		r.flushBatch() // the PREPARE in flight is overdue: send what waits behind it
	}
	//lab:end
	//lab:begin A
	if r.idleTicks < r.opts.HeartbeatTicks && r.commitSent >= r.commitNumber {
		return
	}
	idle := r.idleTicks >= r.opts.HeartbeatTicks
	r.idleTicks = 0
	r.commitSent = r.commitNumber
	for _, b := range r.config {
		if b != r.id {
			r.send(b, r.heartbeat(b, idle))
		}
	}
	//lab:end
}

// heartbeat is what the primary sends backup b when it has nothing new:
// COMMIT, or — after a whole idle interval — the PREPARE of the ops b has
// not acknowledged, since its PREPAREs or PREPAREOKs were lost and nothing
// else would resend them.
func (r *Replica) heartbeat(b int, idle bool) Message {
	//lab:begin B
	if idle && r.acked[b] < r.opNumber {
		return r.prepareAfter(max(r.acked[b], r.commitNumber))
	}
	//lab:end
	return Message{Type: MsgCommit, View: r.view, CommitNumber: r.commitNumber}
}

// tickBackup starts a view change when the primary has been silent too
// long, or when it is heard but commits nothing: a backup that holds ops
// beyond its commit-number, and has not seen the commit-number move for a
// view-change timeout, takes it that the primary does not hear the
// backups (a one-way link failure, VR-PROTOCOL.md §3 [choice]). A healthy
// group commits within a round trip, and an idle one holds nothing
// uncommitted, so neither ever meets this timer.
func (r *Replica) tickBackup() {
	//lab:begin A
	r.silentTicks++
	if r.silentTicks >= r.viewChangeTimeout {
		if r.silentTicks == r.viewChangeTimeout { // once: a lease promise may hold the view change back (Part F)
			r.logf("view", "R%d: primary %d of view %d silent for %d ticks", r.id, r.primaryOf(r.view), r.view, r.silentTicks)
		}
		r.startViewChange(r.view + 1)
		return
	}
	//lab:end
	//lab:begin B
	if r.opNumber <= r.commitNumber {
		r.stalledTicks = 0
		return
	}
	r.stalledTicks++
	if r.stalledTicks >= r.viewChangeTimeout {
		if r.stalledTicks == r.viewChangeTimeout { // once: a lease promise may hold the view change back (Part F)
			r.logf("view", "R%d: primary %d of view %d has committed nothing for %d ticks (op %d, commit %d)", r.id, r.primaryOf(r.view), r.view, r.stalledTicks, r.opNumber, r.commitNumber)
		}
		r.startViewChange(r.view + 1)
	}
	//lab:end
}
