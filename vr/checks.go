package vr

// What the Replica checks: messages from outside (validate rejects bad input
// with an error, never a panic) and invariants of its own state (assert
// panics: a broken invariant is a bug in this code).

import "fmt"

// validate rejects messages no correct peer sends. Types a replica never
// receives (REPLY, NOTPRIMARY) are rejected too.
func (r *Replica) validate(m Message) error {
	switch {
	case m.Type < MsgRequest || m.Type > MsgCommitOK || m.Type == MsgReply || m.Type == MsgNotPrimary:
		return fmt.Errorf("vr: replica %d: unexpected message type %v", r.id, m.Type)
	case !fromClient(m) && (m.From < 0 || m.From >= len(r.acked)):
		return fmt.Errorf("vr: replica %d: %v from unknown replica %d", r.id, m.Type, m.From)
	case !fromClient(m) && m.From == r.id:
		return fmt.Errorf("vr: replica %d: %v from itself", r.id, m.Type)
	case outOfRange(m.View, m.OpNumber, m.CommitNumber, m.LastNormalView, m.LogStart, m.Epoch, m.SentAt):
		return fmt.Errorf("vr: replica %d: %v with a number outside [0, %d]", r.id, m.Type, maxNumber)
	case m.LastNormalView > m.View:
		return fmt.Errorf("vr: replica %d: %v with last-normal-view %d above view %d", r.id, m.Type, m.LastNormalView, m.View)
	case m.Checkpoint != nil && m.Checkpoint.OpNumber != m.LogStart:
		return fmt.Errorf("vr: replica %d: %v with checkpoint %d not at log start %d", r.id, m.Type, m.Checkpoint.OpNumber, m.LogStart)
	}
	switch m.Type {
	case MsgPrepare, MsgDoViewChange, MsgStartView, MsgNewState, MsgRecoveryResponse:
		if m.Type == MsgRecoveryResponse && m.Entries == nil && m.LogStart == 0 && m.OpNumber == 0 {
			break // a backup's answer carries no log
		}
		if m.LogStart+len(m.Entries) != m.OpNumber {
			return fmt.Errorf("vr: replica %d: %v log (%d..%d] does not end at op-number %d", r.id, m.Type, m.LogStart, m.LogStart+len(m.Entries), m.OpNumber)
		}
	case MsgRequest, MsgReconfiguration:
		if m.RequestNum < 1 {
			return fmt.Errorf("vr: replica %d: %v with request-number %d (must be ≥ 1)", r.id, m.Type, m.RequestNum)
		}
	case MsgStartEpoch, MsgNewEpoch:
		if err := checkMembers(m.Members, len(r.acked)); err != nil {
			return fmt.Errorf("vr: replica %d: %v with configuration %v: %v", r.id, m.Type, m.Members, err)
		}
		if err := checkMembers(m.OldMembers, len(r.acked)); err != nil {
			return fmt.Errorf("vr: replica %d: %v with old configuration %v: %v", r.id, m.Type, m.OldMembers, err)
		}
		if m.Epoch < 1 {
			return fmt.Errorf("vr: replica %d: %v of epoch 0", r.id, m.Type)
		}
	}
	for _, e := range m.Entries {
		if e.Members != nil {
			if err := checkMembers(e.Members, len(r.acked)); err != nil {
				return fmt.Errorf("vr: replica %d: %v holding a RECONFIGURATION to %v: %v", r.id, m.Type, e.Members, err)
			}
		}
	}
	return nil
}

// fromClient reports whether m comes from a client, not a replica.
func fromClient(m Message) bool { return m.Type == MsgRequest || m.Type == MsgReconfiguration }

// maxNumber bounds views and op-numbers in messages: far beyond any real
// run, and far enough from overflow that v+1 is always safe.
const maxNumber = 1 << 48

func outOfRange(xs ...int) bool {
	for _, x := range xs {
		if x < 0 || x > maxNumber {
			return true
		}
	}
	return false
}

// assert panics when an invariant of the replica's own state is broken: that
// is a bug in this code, never a consequence of bad input.
func (r *Replica) assert(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("vr: replica %d: invariant violated: %s", r.id, fmt.Sprintf(format, args...)))
	}
}

func (r *Replica) checkInvariants() {
	// The common case first, without building any message: assert's
	// arguments would be allocated on every step.
	if r.opNumber == r.logStart+len(r.log) && r.executed <= r.opNumber && r.executed <= r.commitNumber &&
		r.logStart <= r.executed && r.lastNormalView <= r.view && (r.status != Normal || r.lastNormalView == r.view) &&
		(r.status != Normal || !r.isPrimary() || r.prepared <= r.opNumber) &&
		(r.checkpoint == nil || r.checkpoint.OpNumber == r.logStart) && (r.status != Normal || r.opNumber >= r.epochStart) {
		return
	}
	r.assert(r.opNumber == r.logStart+len(r.log), "op-number %d != log start %d + %d entries", r.opNumber, r.logStart, len(r.log))
	r.assert(r.executed <= r.opNumber && r.executed <= r.commitNumber, "executed %d beyond op-number %d or commit-number %d", r.executed, r.opNumber, r.commitNumber)
	r.assert(r.logStart <= r.executed, "log starts at %d after executed op %d", r.logStart, r.executed)
	r.assert(r.lastNormalView <= r.view, "last-normal-view %d above view %d", r.lastNormalView, r.view)
	r.assert(r.status != Normal || r.lastNormalView == r.view, "normal in view %d with last-normal-view %d", r.view, r.lastNormalView)
	r.assert(r.status != Normal || !r.isPrimary() || r.prepared <= r.opNumber, "primary prepared op %d beyond op-number %d", r.prepared, r.opNumber)
	r.assert(r.checkpoint == nil || r.checkpoint.OpNumber == r.logStart, "checkpoint at %d but log starts at %d", r.checkpointOp(), r.logStart)
	// Part E: a replica normal in an epoch holds the state up to its start.
	r.assert(r.status != Normal || r.opNumber >= r.epochStart, "normal in epoch %d with op-number %d, before the epoch's start at op %d", r.epoch, r.opNumber, r.epochStart)
}

func (r *Replica) checkpointOp() int {
	if r.checkpoint == nil {
		return 0
	}
	return r.checkpoint.OpNumber
}
