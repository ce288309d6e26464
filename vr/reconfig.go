package vr

import (
	"errors"
	"fmt"
)

// Reconfiguration (VR-PROTOCOL.md §8; paper §7). A membership change is an
// op in the log, RECONFIGURATION, and committing it ends the epoch: the
// group moves to epoch e+1 with the new configuration, starting in view 0
// after that op. Replicas that the new epoch adds fetch the state up to it by
// state transfer before they take part in anything; replicas it removes
// serve that state until f'+1 new members hold it, then stop.
//
// Epochs order everything: a message of an older epoch is dropped and its
// sender told the new epoch (NEWEPOCH); a message of a newer epoch means this
// replica is behind, and it asks the sender, whose NEWEPOCH then tells it.

// ---- the administrator's request, at the primary ----

// onReconfiguration is the primary taking an administrator's request to
// move the group to configuration m.Members. It goes through the
// client-table like any request, so a retry is answered, not redone.
func (r *Replica) onReconfiguration(m Message) {
	if r.status != Normal || !r.isPrimary() {
		r.reply(r.notPrimary(m))
		return
	}
	//lab:begin E
	switch r.clients.check(m.ClientID, m.RequestNum) {
	case dropRequest:
		return
	case resendReply:
		if r.epochHeld() { // else the administrator retries
			r.resendReply(m)
		}
		return
	}
	if why := r.refuseReconfiguration(m); why != "" {
		r.logf("epoch", "R%d refuses RECONFIGURATION %v from c%d: %s", r.id, m.Members, m.ClientID, why)
		r.reply(Message{Type: MsgReply, View: r.view, ClientID: m.ClientID, RequestNum: m.RequestNum, Err: why, Members: r.config})
		return
	}
	if r.commitNumber < r.viewStartOp {
		// The ops this primary inherited at the start of its view are not
		// committed yet: wait (the administrator retries). A change decided
		// before the log it follows is settled is Raft's single-server bug.
		return
	}
	r.appendEntry(Entry{ClientID: m.ClientID, RequestNum: m.RequestNum, Members: append([]int(nil), m.Members...)})
	r.clients.prepared(m.ClientID, m.RequestNum)
	r.logf("epoch", "R%d prepares RECONFIGURATION %v→%v as op %d", r.id, r.config, m.Members, r.opNumber)
	r.prepareBatch()
	r.advanceCommit()
	//lab:end
}

// refuseReconfiguration says why a RECONFIGURATION cannot be taken, or "".
func (r *Replica) refuseReconfiguration(m Message) string {
	//lab:begin E
	switch {
	case m.Epoch != r.epoch:
		return fmt.Sprintf("the request is for epoch %d but the group is in epoch %d", m.Epoch, r.epoch)
	case r.reconfigPending():
		return fmt.Sprintf("a reconfiguration to %v is in progress", r.entry(r.opNumber).Members)
	}
	if err := checkMembers(m.Members, len(r.acked)); err != nil {
		return err.Error()
	}
	if sameMembers(m.Members, r.config) {
		return fmt.Sprintf("the configuration %v is already in force", r.config)
	}
	return ""
	//lab:stub return ""
	//lab:end
}

// reconfigPending reports whether the top of the log is a RECONFIGURATION
// of this epoch, not yet executed. Once it is prepared, the epoch takes no
// more ops. It is read from the log, not from a flag set when the request
// came, so a primary that inherited the op in a view change sees it too.
func (r *Replica) reconfigPending() bool {
	//lab:begin E
	return r.opNumber > r.epochStart && r.opNumber > r.executed && r.entry(r.opNumber).Members != nil
	//lab:stub return false
	//lab:end
}

// ---- the end of an epoch ----

// executeReconfiguration is executing committed op `op`, a RECONFIGURATION:
// the epoch ends here. Every replica of the old group that executes it moves
// to the next epoch; the old primary tells the added replicas (STARTEPOCH)
// and the administrator (the new primary answers it).
func (r *Replica) executeReconfiguration(op int, e Entry) {
	r.executed = op
	r.clients.executedOp(e.ClientID, e.RequestNum, nil)
	if op <= r.epochStart {
		return // the RECONFIGURATION that began this epoch, executed by a replica that joined it
	}
	r.assert(r.opNumber == op, "op %d follows the RECONFIGURATION at op %d in epoch %d: an epoch takes no op after its RECONFIGURATION", op+1, op, r.epoch)
	//lab:begin E
	wasPrimary := r.status == Normal && r.isPrimary()
	old := r.config
	r.logf("epoch", "R%d executes RECONFIGURATION op %d: epoch %d %v → epoch %d %v", r.id, op, r.epoch, old, r.epoch+1, e.Members)
	r.beginEpoch(r.epoch+1, op, r.lastNormalView, old, e.Members)
	start := r.startEpochMessage()
	if wasPrimary {
		for _, p := range r.config {
			if !contains(old, p) {
				r.send(p, start)
			}
		}
	}
	switch {
	case contains(r.config, r.id) && r.lostState:
		// It recovered in the old epoch with this RECONFIGURATION pending:
		// an earlier life may have been a member of the new epoch already,
		// with promises this one does not know. Recover them from it.
		r.status = Recovering
		r.startRecovery()
	case contains(r.config, r.id):
		// A member of both: it holds the state up to op, so it is normal in
		// view 0 of the new epoch at once.
		r.enterNormal()
		r.resetPrimary()
	default:
		r.status = Transitioning // leaving: serve the state until f'+1 new members have it
		r.retired = true
	}
	if r.status == Normal && r.isPrimary() && r.epochHeld() {
		r.reply(Message{Type: MsgReply, View: r.view, ClientID: e.ClientID, RequestNum: e.RequestNum})
	} else if wasPrimary {
		r.reply(Message{Type: MsgNewEpoch, View: r.view, Primary: r.primaryOf(r.view), ClientID: e.ClientID, RequestNum: e.RequestNum, Members: r.config})
	}
	//lab:end
}

// epochHeld reports whether f'+1 members of this primary's epoch, itself
// included, hold the state up to the epoch's start (they acknowledged an op
// at or after it in this view). Only then is the administrator told that
// the reconfiguration is done: it may shut the removed replicas down, and
// the state must survive f' crashes in the new group without them.
func (r *Replica) epochHeld() bool {
	n := 1
	for _, p := range r.config {
		if p != r.id && r.acked[p] >= r.epochStart {
			n++
		}
	}
	return n >= r.quorum
}

// beginEpoch makes epoch `epoch`, begun after op `start` (executed in view
// startView of the epoch before) with configuration members (replacing
// old), this replica's epoch, in view 0.
func (r *Replica) beginEpoch(epoch, start, startView int, old, members []int) {
	r.epoch = epoch
	r.epochStart = start
	r.epochStartView = startView
	r.oldConfig = append([]int(nil), old...)
	r.config = append([]int(nil), members...)
	r.quorum = len(r.config)/2 + 1
	r.view, r.lastNormalView = 0, 0
	r.failedViewChanges = 0
	clear(r.acked)
	clear(r.startViewChanges)
	clear(r.doViewChanges)
	clear(r.epochStarted)
	r.doViewChangeSent = false
	r.epochStartedSent = false
	r.retired = false
	r.getStateSent = false
	r.resetViewChangeTimer()
}

// startEpochMessage is this epoch's STARTEPOCH: what a replica needs to
// join it. NEWEPOCH carries the same.
func (r *Replica) startEpochMessage() Message {
	return Message{Type: MsgStartEpoch, View: r.epochStartView, OpNumber: r.epochStart, OldMembers: r.oldConfig, Members: r.config}
}

// announceEpochStarted tells the leaving replicas that this new member holds
// the state of the epoch; it is called whenever a member becomes normal, and
// sends once per epoch (a STARTEPOCH resent by a leaving replica is answered
// again).
func (r *Replica) announceEpochStarted() {
	//lab:begin E
	if r.epoch == 0 || r.epochStartedSent {
		return
	}
	r.epochStartedSent = true
	for _, p := range r.oldConfig {
		if !contains(r.config, p) {
			r.send(p, Message{Type: MsgEpochStarted})
		}
	}
	//lab:end
}

// ---- joining an epoch ----

// onStartEpoch is a replica being told that epoch m.Epoch has begun. An
// added replica joins it; a member that is already normal in it answers a
// leaving replica's resend with EPOCHSTARTED.
func (r *Replica) onStartEpoch(m Message) {
	//lab:begin E
	if m.Epoch > r.epoch {
		r.joinEpoch(m)
		return
	}
	if m.Epoch < r.epoch {
		// A leaving replica of an older epoch still resending: it would
		// wait for EPOCHSTARTED for ever. Tell it of this epoch.
		ne := r.startEpochMessage()
		ne.Type = MsgNewEpoch
		r.send(m.From, ne)
		return
	}
	if m.Epoch == r.epoch && r.status == Normal && !contains(r.config, m.From) {
		r.send(m.From, Message{Type: MsgEpochStarted})
	}
	//lab:end
}

// onNewEpoch is a replica told that its message was of an older epoch.
func (r *Replica) onNewEpoch(m Message) {
	//lab:begin E
	if m.Epoch > r.epoch {
		r.joinEpoch(m)
	}
	//lab:end
}

// joinEpoch moves this replica, which did not execute the RECONFIGURATION
// itself, into the newer epoch a STARTEPOCH or NEWEPOCH describes. A member
// of it fetches the state up to the epoch's start and takes part in nothing
// until it has it: with an older or empty log, its vote in a view change
// could lose committed ops. A replica outside it is out.
func (r *Replica) joinEpoch(m Message) {
	//lab:begin E
	if checkMembers(m.Members, len(r.acked)) != nil || checkMembers(m.OldMembers, len(r.acked)) != nil {
		return // a malformed epoch (validate lets only well-formed ones through)
	}
	if r.holdsEpochStart(m) {
		// Its own log up to the epoch's start is the committed one: execute
		// into the epoch, as if it had learned the commit.
		r.logf("epoch", "R%d (epoch %d, %v) learns op %d committed: it holds epoch %d's start", r.id, r.epoch, r.status, m.OpNumber, m.Epoch)
		r.commitNumber = max(r.commitNumber, m.OpNumber)
		r.executeCommitted()
		if r.epoch == m.Epoch {
			return
		}
	}
	wasMember := r.status != Standby || r.retired
	r.logf("epoch", "R%d (epoch %d, %v) joins epoch %d %v from R%d", r.id, r.epoch, r.status, m.Epoch, m.Members, m.From)
	r.beginEpoch(m.Epoch, m.OpNumber, m.View, m.OldMembers, m.Members)
	switch {
	case !contains(r.config, r.id):
		r.status = Standby
		r.retired = wasMember
	case r.status == Recovering || r.lostState:
		// It lost its state (and may have been a member of this epoch in
		// an earlier life, a standby in between): recover it from the new
		// group; joining as a new member would forget its promises.
		r.status = Recovering
		r.startRecovery()
	default:
		r.status = Transitioning
		r.stateTransferTry = m.From
		r.sendJoinGetState(m.From)
	}
	//lab:end
}

// resetPrimary starts a primary's counting afresh when this replica becomes
// the primary of view 0 of an epoch (maybeStartView does the same for a view
// change).
func (r *Replica) resetPrimary() {
	if r.isPrimary() {
		clear(r.acked)
		r.prepared, r.heldBytes, r.idleTicks, r.commitSent = r.opNumber, 0, 0, r.commitNumber
	}
}

// holdsEpochStart reports whether this replica, told of the next epoch,
// holds in its own log the committed ops up to the epoch's start: it is in
// the epoch before, its log reaches the start, and its log is of the view
// in which the start was executed or a later one (a later view's log holds
// every op committed before it, at the same op-number). Then it needs no
// state from anyone — which matters when the replicas that executed the
// RECONFIGURATION crashed right after telling the others of the epoch.
func (r *Replica) holdsEpochStart(m Message) bool {
	return r.epoch == m.Epoch-1 && r.status != Recovering && r.status != Standby && r.status != Transitioning &&
		r.opNumber >= m.OpNumber && r.executed < m.OpNumber && r.lastNormalView >= m.View
}

// sendJoinGetState asks replica `to`, as a new member of this epoch, for the
// committed ops after this replica's committed point. Members marks the
// GETSTATE as a joining member's.
func (r *Replica) sendJoinGetState(to int) {
	r.send(to, Message{Type: MsgGetState, OpNumber: r.committedPoint(), Members: r.config})
}

// onJoinGetState answers a joining member with the committed ops after its
// committed point: any replica of the epoch that holds the epoch's state
// answers, whatever its status or view (a view change in the new epoch may
// need the new member's vote, and a leaving replica is in no view at all).
// Committed ops are the same in every view, so the answer is safe to take
// in view 0.
func (r *Replica) onJoinGetState(m Message) {
	//lab:begin E
	if r.status == Recovering || r.status == Standby || (r.status == Transitioning && !r.retired) || r.executed < r.epochStart {
		return
	}
	k := r.committedPoint()
	from := min(m.OpNumber, k)
	reply := Message{Type: MsgNewState, OpNumber: k, CommitNumber: k, Members: r.config}
	if from < r.logStart {
		from = r.logStart
		reply.Checkpoint = r.checkpoint
	}
	reply.LogStart = from
	reply.Entries = append([]Entry(nil), r.log[from-r.logStart:k-r.logStart]...)
	r.send(m.From, reply)
	//lab:end
}

// onJoinNewState is a joining member taking the committed state of its
// epoch. It must cover the epoch's start: everything up to it is committed,
// and nothing less lets this replica take part. With it, the replica is
// normal in view 0 of the epoch, where it began; if the group has moved to a
// later view, the first message of that view makes it catch up as any
// replica behind does (§6). Its log holds only committed ops, so its vote in
// a view change cannot lose one.
func (r *Replica) onJoinNewState(m Message) {
	//lab:begin E
	if m.CommitNumber < r.epochStart || m.CommitNumber != m.OpNumber || (m.LogStart > r.committedPoint() && m.Checkpoint == nil) {
		return // not the committed state up to the epoch's start
	}
	r.truncateLog(r.committedPoint())
	if !r.extendLog(m.LogStart, m.Entries, m.Checkpoint) {
		return
	}
	r.logf("epoch", "R%d holds epoch %d's state (n=%d) from R%d", r.id, r.epoch, r.opNumber, m.From)
	r.commitNumber = max(r.commitNumber, m.CommitNumber)
	r.enterNormal()
	r.resetPrimary()
	r.executeCommitted()
	//lab:end
}

// tickTransitioning resends what a replica between epochs is waiting for:
// a joining member asks for the state again, of another replica each time;
// a leaving one resends STARTEPOCH to the new members that have not
// confirmed. Neither times out into a view change.
func (r *Replica) tickTransitioning() {
	//lab:begin E
	r.resendTicks++
	if r.resendTicks < r.opts.HeartbeatTicks {
		return
	}
	r.resendTicks = 0
	if !r.retired {
		peers := r.epochPeers()
		r.stateTransferTry = peers[(indexOf(peers, r.stateTransferTry)+1)%len(peers)]
		r.sendJoinGetState(r.stateTransferTry)
		return
	}
	start := r.startEpochMessage()
	for _, p := range r.config {
		if !r.epochStarted[p] {
			r.send(p, start)
		}
	}
	//lab:end
}

// onEpochStarted is a leaving replica counting the new members that hold the
// state. With f'+1 of them the state is safe in the new group, and this
// replica stops.
func (r *Replica) onEpochStarted(m Message) {
	//lab:begin E
	if !r.retired || r.status != Transitioning || !contains(r.config, m.From) {
		return
	}
	r.epochStarted[m.From] = true
	n := 0
	for _, p := range r.config {
		if r.epochStarted[p] {
			n++
		}
	}
	if n >= r.quorum {
		r.logf("epoch", "R%d: %d new members hold epoch %d; it stops", r.id, n, r.epoch)
		r.status = Standby
	}
	//lab:end
}

// ---- epochs of incoming messages ----

// checkEpoch handles the epoch of a replica's message and reports whether
// the message is for this replica's epoch and should be processed. An older
// epoch's sender is told of this one; a newer epoch's sender is asked about
// it (it will answer NEWEPOCH, since the question is of an older epoch).
func (r *Replica) checkEpoch(m Message) bool {
	//lab:begin E
	switch {
	case m.Type == MsgStartEpoch || m.Type == MsgNewEpoch:
		return true // they carry the epoch they describe
	case m.Epoch < r.epoch:
		if m.Type != MsgEpochStarted {
			ne := r.startEpochMessage()
			ne.Type = MsgNewEpoch
			r.send(m.From, ne)
		}
		return false
	case m.Epoch > r.epoch:
		if r.now-r.epochAskedAt >= r.opts.HeartbeatTicks || r.epochAskedAt == 0 {
			r.epochAskedAt = max(r.now, 1)
			r.send(m.From, Message{Type: MsgGetState, View: r.view, OpNumber: r.committedPoint()})
		}
		return false
	}
	//lab:end
	return contains(r.config, m.From) || contains(r.oldConfig, m.From)
}

// takesPart reports whether a replica in this status processes message m at
// all: a standby only learns of newer epochs, and a replica between epochs
// handles only the messages of the transition.
func (r *Replica) takesPart(m Message) bool {
	//lab:begin E
	switch r.status {
	case Standby:
		// Clients are answered with where the group is.
		return m.Type == MsgStartEpoch || m.Type == MsgNewEpoch || fromClient(m)
	case Transitioning:
		switch m.Type {
		case MsgStartEpoch, MsgNewEpoch, MsgEpochStarted, MsgRequest, MsgReconfiguration:
			return true
		case MsgGetState:
			return r.retired && m.Members != nil // a leaving replica serves the epoch's state
		case MsgNewState:
			return !r.retired
		case MsgPrepare, MsgCommit:
			// A joining member learns who is normal in the epoch: ask it.
			if !r.retired && m.From != r.stateTransferTry {
				r.stateTransferTry = m.From
				r.sendJoinGetState(m.From)
			}
		}
		return false
	}
	//lab:end
	return true
}

// epochPeers are the replicas a joining member may ask for the state: the
// old group and the new, itself excluded.
func (r *Replica) epochPeers() []int {
	var peers []int
	for _, p := range append(append([]int(nil), r.oldConfig...), r.config...) {
		if p != r.id && !contains(peers, p) {
			peers = append(peers, p)
		}
	}
	return peers
}

// ---- configurations ----

// checkMembers rejects a configuration that cannot be one: empty, with a
// replica twice, or naming a replica outside the npeers peers.
func checkMembers(members []int, npeers int) error {
	if len(members) == 0 {
		return errors.New("vr: empty configuration")
	}
	seen := map[int]bool{}
	for _, m := range members {
		if m < 0 || m >= npeers {
			return fmt.Errorf("vr: member %d out of range [0,%d)", m, npeers)
		}
		if seen[m] {
			return fmt.Errorf("vr: member %d listed twice", m)
		}
		seen[m] = true
	}
	return nil
}

// sameMembers reports whether two configurations hold the same replicas.
func sameMembers(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for _, p := range a {
		if !contains(b, p) {
			return false
		}
	}
	return true
}

func contains(xs []int, x int) bool { return indexOf(xs, x) >= 0 }

func indexOf(xs []int, x int) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}
