package vr

// Fast reads with leases (VR-PROTOCOL.md §7; paper §6.3). A read-only op
// through the log costs a PREPARE round like any other. With leases, the
// primary answers it from its own state, and the answer is still
// linearizable, because no other replica can be primary at that moment:
//
//   - Backups grant the primary a lease with their acknowledgements: the
//     PREPAREOK of a PREPARE, and the COMMITOK with which a backup answers a
//     COMMIT (the heartbeat) or the STARTVIEW of a new view. The primary
//     stamps each PREPARE, COMMIT and STARTVIEW with its own tick (SentAt,
//     see send in replica.go); the answer echoes it, and the lease runs from
//     there: a message's delay can only shorten a lease, never lengthen it.
//   - A backup that grants a lease promises to take no part in a view change
//     (no STARTVIEWCHANGE, no DOVIEWCHANGE) for LeaseTicks ticks of its own
//     clock, counted from when it granted.
//   - The primary honours a grant for LeaseTicks − leaseMargin ticks of its
//     clock from SentAt. With f grants held, every quorum of f+1 replicas
//     that could start a new view includes a backup that is still keeping
//     its promise, so no new view exists, and the primary's state holds
//     every committed op. (A new primary must first commit the log it
//     inherited: until then its state may lack ops the old view committed.)
//
// Clocks. The argument needs the primary's grants to end, in real time,
// before the promises behind them. A tick lasts TickInterval on each clock,
// but clocks drift, and both sides count whole ticks. leaseMargin covers one
// tick of rounding and clock rates that differ by up to 1/7 (VR-PROTOCOL.md
// §7 [choice]): each replica's clock within ±5% of real time is well inside
// that. A Node's clock is the monotonic clock (node.go): it never runs fast,
// and it is brought up to date before each step, so the primary never
// judges a lease by a clock that fell behind.
//
// With LeaseTicks = 0 nothing here does anything: no stamps, no grants, no
// COMMITOK, and every read goes through the log. (Then the time-valued
// fields below stay 0, which keeps Fingerprint's states equal whatever the
// tick; the search runs without leases.)

import "fmt"

// leaseMargin is how many ticks short of its length the primary stops
// honouring a lease of l ticks: one tick of rounding (a tick counted on
// one clock is up to a tick more on another) plus l/8 for drift.
func leaseMargin(l int) int { return 1 + (l+7)/8 }

// checkLeaseOptions refuses a lease that is not shorter than the
// view-change timeout (o has its defaults filled in). A backup's promise
// would then hold it back from a view change longer than its own timeout
// does. NewReplica calls it.
func checkLeaseOptions(o Options) error {
	//lab:begin F
	if o.LeaseTicks < 0 {
		return fmt.Errorf("vr: negative lease (LeaseTicks %d)", o.LeaseTicks)
	}
	if o.LeaseTicks > 0 && o.LeaseTicks >= o.ViewChangeTicks {
		return fmt.Errorf("vr: a lease of %d ticks (LeaseTicks) must be shorter than the view-change timeout of %d ticks (ViewChangeTicks)", o.LeaseTicks, o.ViewChangeTicks)
	}
	//lab:end
	return nil
}

// startLeases sets up the lease state of a new replica. A restarted
// replica has forgotten what it granted in its earlier life, so it keeps
// the promise of a grant made at the moment of the crash: no view change
// for a lease's length (its clock starts again at 0).
func (r *Replica) startLeases() {
	r.leaseUntil = make([]int, len(r.acked))
	//lab:begin F
	if r.opts.Recovering {
		r.promiseUntil = r.opts.LeaseTicks
	}
	//lab:end
}

// stampLease marks what the primary sends its backups with its tick, the
// start of the lease their answers grant (send calls it for every message).
func (r *Replica) stampLease(m *Message) {
	if r.opts.LeaseTicks > 0 && r.status == Normal && r.isPrimary() &&
		(m.Type == MsgPrepare || m.Type == MsgCommit || m.Type == MsgStartView) {
		m.SentAt = r.now
	}
}

// ---- the backup: grants and its promise ----

// grantLease makes ack, this backup's PREPAREOK for the primary's PREPARE
// m, grant the primary a lease from m.SentAt, and makes the promise that
// comes with it: no view change for LeaseTicks ticks from now, on this
// replica's own clock.
func (r *Replica) grantLease(m Message, ack *Message) {
	//lab:begin F
	if r.opts.LeaseTicks == 0 {
		return
	}
	if r.stalledTicks >= r.viewChangeTimeout {
		// The commit watchdog fired (tickBackup): grant no more, so that
		// the promise lapses and the view change can start.
		return
	}
	r.promiseUntil = max(r.promiseUntil, r.now+r.opts.LeaseTicks)
	ack.SentAt, ack.Grant = m.SentAt, true
	//lab:end
}

// answerHeartbeat answers the primary's COMMIT, or the STARTVIEW of a new
// view that this backup just entered, with a COMMITOK that grants a lease
// (grantLease). Only with leases on: without them a heartbeat has no
// answer, and an idle group sends what it always did.
func (r *Replica) answerHeartbeat(m Message) {
	//lab:begin F
	if r.opts.LeaseTicks == 0 {
		return
	}
	ok := Message{Type: MsgCommitOK, View: r.view}
	r.grantLease(m, &ok)
	r.send(m.From, ok)
	//lab:end
}

// promised reports whether this replica is keeping a lease's promise: then
// it neither starts nor joins a view change (startViewChange checks).
func (r *Replica) promised() bool {
	//lab:begin F
	return r.now < r.promiseUntil
	//lab:stub return false
	//lab:end
}

// ---- the primary: grants held, and reads served from them ----

// takeLease records the lease that m, a PREPAREOK or COMMITOK of this
// primary's view, grants: it holds until SentAt + LeaseTicks − margin on
// this replica's clock. The caller checked the view and that this replica
// is its primary.
func (r *Replica) takeLease(m Message) {
	//lab:begin F
	if !m.Grant || r.opts.LeaseTicks == 0 || m.SentAt > r.now {
		return // no grant; or stamped by an earlier life of this replica
	}
	until := m.SentAt + r.opts.LeaseTicks - leaseMargin(r.opts.LeaseTicks)
	r.leaseUntil[m.From] = max(r.leaseUntil[m.From], until)
	//lab:end
}

// onCommitOK is the primary taking the lease a backup granted with its
// answer to a COMMIT or STARTVIEW.
func (r *Replica) onCommitOK(m Message) {
	if r.status != Normal || m.View != r.view || !r.isPrimary() {
		return
	}
	r.takeLease(m)
}

// resetLeases forgets the grants of an earlier view (enterNormal calls
// it, after noting in viewStartOp where this view's log began: a new primary
// serves no lease read before the log it inherited is committed).
func (r *Replica) resetLeases() {
	//lab:begin F
	clear(r.leaseUntil)
	//lab:end
}

// leasesHeld counts the backups whose grants this primary holds now.
func (r *Replica) leasesHeld() int {
	//lab:begin F
	n := 0
	for _, p := range r.config {
		if p != r.id && r.now < r.leaseUntil[p] {
			n++
		}
	}
	return n
	//lab:stub return 0
	//lab:end
}

// leaseReadOK reports whether this replica may answer a read-only op from
// its own state now: leases are on, it is the normal primary, the log it
// inherited with its view is committed (and so executed), and it holds
// unexpired leases from f backups, and no RECONFIGURATION is prepared (Part
// E: the epoch is ending, and the next one's group may already serve).
func (r *Replica) leaseReadOK() bool {
	//lab:begin F
	return r.opts.LeaseTicks > 0 && r.status == Normal && r.isPrimary() &&
		r.commitNumber >= r.viewStartOp && r.executed == r.commitNumber &&
		r.leasesHeld() >= r.quorum-1 && !r.reconfigPending()
	//lab:stub return false
	//lab:end
}

// leaseRead returns the answer to the read-only REQUEST m from the state
// under the primary's leases, if it may (leaseReadOK) and the service is a
// Reader: Read's result, and true. It returns false to send m through the
// log instead, like any request. A request the client-table knows is left
// to the log path too (a resend of a read that went through the log gets
// the recorded reply there).
func (r *Replica) leaseRead(m Message) (result []byte, ok bool) {
	//lab:begin F
	reader, isReader := r.sm.(Reader)
	if !isReader || !r.leaseReadOK() || r.clients.check(m.ClientID, m.RequestNum) != acceptRequest {
		return nil, false
	}
	return reader.Read(m.Op), true
	//lab:stub return nil, false
	//lab:end
}

// serveLeaseRead answers the read-only REQUEST m under the leases, without
// a PREPARE, if leaseRead can (onRequest calls it).
func (r *Replica) serveLeaseRead(m Message) bool {
	result, ok := r.leaseRead(m)
	if ok {
		r.reply(r.leaseReply(m, result))
	}
	return ok
}

func (r *Replica) leaseReply(m Message, result []byte) Message {
	return Message{Type: MsgReply, View: r.view, ClientID: m.ClientID, RequestNum: m.RequestNum, Result: result}
}

// ReadNow answers the read-only REQUEST m at once from the state under this
// primary's leases, exactly as Step would (leaseRead), and returns the
// reply; ok is false when it cannot (leases off or lapsed, not the primary,
// a request the client-table knows, …), and then m must be stepped as
// usual. A runtime uses it to answer a lease read without queueing it
// behind the messages waiting to be stepped (Node.Request); its clock must
// be up to date.
func (r *Replica) ReadNow(m Message) (reply Message, ok bool) {
	if m.Type != MsgRequest || !m.ReadOnly || r.validate(m) != nil {
		return Message{}, false
	}
	result, ok := r.leaseRead(m)
	if !ok {
		return Message{}, false
	}
	return r.leaseReply(m, result), true
}
