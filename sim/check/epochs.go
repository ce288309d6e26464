package check

import (
	"fmt"
	"hash/fnv"
	"slices"

	"vrlab/vr"
)

// Epochs (Part E, VR-PROTOCOL.md §8): the checks of reconfiguration.
//
//   - ViewKey orders (epoch, view) pairs in one int: the per-view tables of
//     the rules (Step.SVCFrom, Step.OKSent) and of Log (one primary) are
//     keyed by it, so epoch 0's keys are its views and the search, which has
//     no epochs, keys them as before.
//   - EntryKey names a log entry: a RECONFIGURATION (no op bytes) gets a
//     key of its own, made of its request and configuration, so the
//     canonical log holds it like any op: agreement and exactly-once cover
//     it too.
//   - Log.Epoch records what each epoch is (its start and configuration):
//     every replica and every STARTEPOCH/NEWEPOCH must agree on it.
//   - EpochRules are the protocol rules of a step that epochs add.

// ViewKey is (epoch, view) as one int, ordered by epoch then view.
func ViewKey(epoch, view int) int { return epoch<<32 | view }

// reconfigBit marks the key of a RECONFIGURATION (client ops use 64 bits
// less this one: OpKey's client index stays far below 2^23).
const reconfigBit = 1 << 63

// ReconfigKey is the key of a RECONFIGURATION entry: its request and its
// configuration, in order (the order chooses each view's primary).
func ReconfigKey(clientID int64, reqNum int, members []int) uint64 {
	h := fnv.New64a()
	fmt.Fprint(h, clientID, reqNum, members)
	return h.Sum64() | reconfigBit
}

// IsReconfig reports whether key is a RECONFIGURATION's.
func IsReconfig(key uint64) bool { return key&reconfigBit != 0 }

// EntryKey is the key of log entry e: its op's, or a RECONFIGURATION's.
func EntryKey(e *vr.Entry) uint64 {
	if e.Members != nil {
		return ReconfigKey(e.ClientID, e.RequestNum, e.Members)
	}
	return DecodeOp(e.Op)
}

// epochInfo is what an epoch is: it began after op start with members,
// replacing old.
type epochInfo struct {
	known      bool
	start      int
	members    []int
	old        []int // nil: not yet known (a replica's State has no old members)
	reconfigOp uint64
}

// EpochStart returns the op-number after which epoch e began, if known.
func (l *Log) EpochStart(e int) (int, bool) {
	if e < len(l.epochs) && l.epochs[e].known {
		return l.epochs[e].start, true
	}
	return 0, false
}

// EpochMembers returns epoch e's configuration, nil if not known.
func (l *Log) EpochMembers(e int) []int {
	if e < len(l.epochs) && l.epochs[e].known {
		return l.epochs[e].members
	}
	return nil
}

// MaxEpoch is the highest epoch known to have begun.
func (l *Log) MaxEpoch() int { return len(l.epochs) - 1 }

// Epoch records that epoch e began after op start with configuration
// members (replacing old, if not nil), as seen by what. Every observation
// must agree, epochs start in order, and the canonical op at an epoch's
// start is a RECONFIGURATION to its configuration.
func (l *Log) Epoch(e, start int, members, old []int, what func() string) bool {
	if l.epochs == nil {
		l.epochs = []epochInfo{{known: true}} // epoch 0 starts at op 0; its members are the sim's to tell
	}
	for len(l.epochs) <= e {
		l.epochs = append(l.epochs, epochInfo{})
	}
	ep := &l.epochs[e]
	if e == 0 {
		if ep.members == nil && members != nil {
			ep.members = slices.Clone(members)
		} else if members != nil && !slices.Equal(ep.members, members) {
			return l.failf("agreement", what()+" has epoch 0 with configuration "+fmt.Sprint(members)+"; it is "+fmt.Sprint(ep.members))
		}
		return true
	}
	if !ep.known {
		ep.known, ep.start, ep.members = true, start, slices.Clone(members)
		for p := e - 1; p >= 0; p-- { // epochs begin at increasing op-numbers
			if q := l.epochs[p]; q.known {
				if q.start >= start {
					return l.failf("agreement", fmt.Sprintf("%s has epoch %d beginning after op %d, but epoch %d began after op %d", what(), e, start, p, q.start))
				}
				break
			}
		}
		for p := e + 1; p < len(l.epochs); p++ {
			if q := l.epochs[p]; q.known {
				if q.start <= start {
					return l.failf("agreement", fmt.Sprintf("%s has epoch %d beginning after op %d, but epoch %d began after op %d", what(), e, start, p, q.start))
				}
				break
			}
		}
		if !l.checkEpochOp(e) {
			return false
		}
	} else if ep.start != start || !slices.Equal(ep.members, members) {
		return l.failf("agreement", fmt.Sprintf("%s has epoch %d beginning after op %d with configuration %v; it began after op %d with %v", what(), e, start, members, ep.start, ep.members))
	}
	if old != nil {
		if ep.old == nil {
			ep.old = slices.Clone(old)
		} else if !slices.Equal(ep.old, old) {
			return l.failf("agreement", fmt.Sprintf("%s has epoch %d replacing configuration %v; it replaced %v", what(), e, old, ep.old))
		}
		if prev := l.EpochMembers(e - 1); prev != nil && !slices.Equal(prev, old) {
			return l.failf("agreement", fmt.Sprintf("%s has epoch %d replacing configuration %v, but epoch %d's was %v", what(), e, old, e-1, prev))
		}
	}
	return true
}

// checkEpochOp checks the canonical op at epoch e's start, if both are known:
// the RECONFIGURATION that ended epoch e-1, to epoch e's configuration.
func (l *Log) checkEpochOp(e int) bool {
	ep := &l.epochs[e]
	key := l.Op(ep.start)
	if !ep.known || key == 0 {
		return true
	}
	if !IsReconfig(key) {
		return l.failf("agreement", fmt.Sprintf("epoch %d began after op %d, but op %d is %s, not a RECONFIGURATION", e, ep.start, ep.start, OpName(key)))
	}
	if ep.reconfigOp == 0 {
		ep.reconfigOp = key
	}
	return true
}

// committedEpochOp is Committed's hook: a newly known committed op that is
// some epoch's start must be its RECONFIGURATION.
func (l *Log) committedEpochOp(n int) bool {
	for e := 1; e < len(l.epochs); e++ {
		if l.epochs[e].known && l.epochs[e].start == n {
			return l.checkEpochOp(e)
		}
	}
	return true
}

// PrimaryIn records that replica's life is a normal primary of view in
// epoch: at most one per (epoch, view).
func (l *Log) PrimaryIn(epoch, view, replica, life int) {
	id := uint64(replica)<<32 | uint64(life)
	k := ViewKey(epoch, view)
	if prev, ok := l.primaries[k]; !ok {
		l.primaries[k] = id
	} else if prev != id {
		what := "view " + itoa(view)
		if epoch > 0 {
			what += " of epoch " + itoa(epoch)
		}
		l.failf("one-primary", "two normal primaries of "+what+": "+l.who(int(prev>>32), int(prev&0xffffffff))+" and "+l.who(replica, life))
	}
}

// EpochMessage checks what a replica's message says of epochs: a STARTEPOCH
// or NEWEPOCH (to a replica) describes its epoch as every replica saw it;
// a log of epoch e holds nothing after the RECONFIGURATION that ends e (the
// primary takes no more ops once it is prepared).
func (l *Log) EpochMessage(m *vr.Message) {
	switch m.Type {
	case vr.MsgStartEpoch, vr.MsgNewEpoch:
		if m.To != vr.ToClient && m.Epoch > 0 {
			l.Epoch(m.Epoch, m.OpNumber, m.Members, m.OldMembers, func() string { return m.String() })
		}
		return
	case vr.MsgPrepare, vr.MsgDoViewChange, vr.MsgStartView, vr.MsgNewState, vr.MsgRecoveryResponse:
	default:
		return
	}
	start, _ := l.EpochStart(m.Epoch)
	for i := range m.Entries {
		op := m.LogStart + 1 + i
		if m.Entries[i].Members != nil && op > start && i+1 < len(m.Entries) {
			l.failf("conformance/epoch", fmt.Sprintf("%s (epoch %d) holds op %d after op %d, a RECONFIGURATION of its epoch: once it is prepared, the epoch takes no more ops", m, m.Epoch, op+1, op))
			return
		}
	}
}

// EpochState checks a replica's state against the epochs: a replica in
// epoch e executes and commits nothing past the RECONFIGURATION that ends
// e. (A replica's op-number may run past it in a stale view.)
func (l *Log) EpochState(who string, st *vr.State) {
	next, ok := l.EpochStart(st.Epoch + 1)
	if !ok {
		return
	}
	if st.Executed > next || st.CommitNumber > next {
		l.failf("conformance/epoch", fmt.Sprintf("%s is in epoch %d but executed op %d (commit-number %d): epoch %d ended with its RECONFIGURATION at op %d; no op of epoch %d comes after it", who, st.Epoch, st.Executed, st.CommitNumber, st.Epoch, next, st.Epoch))
	}
}

// EpochRules checks the rules epochs add to one step (VR-PROTOCOL.md §8).
// epochStarted is the bit set of the members of St's epoch from which this
// life received EPOCHSTARTED for that epoch.
func EpochRules(s *Step, epochStarted uint32) (check, msg string) {
	prev, st := s.Prev, s.St
	member := slices.Contains(st.Members, s.Self)
	in := s.In
	// Epochs only go forward, by executing the RECONFIGURATION that ends
	// the epoch, or told by a STARTEPOCH or NEWEPOCH describing the new one.
	switch {
	case st.Epoch < prev.Epoch:
		return "conformance/epoch", fmt.Sprintf("%s went back from epoch %d to epoch %d", s.Who, prev.Epoch, st.Epoch)
	case st.Epoch > prev.Epoch:
		told := in != nil && (in.Type == vr.MsgStartEpoch || in.Type == vr.MsgNewEpoch) && in.Epoch == st.Epoch &&
			in.OpNumber == st.EpochStart && slices.Equal(in.Members, st.Members)
		executed := st.Epoch == prev.Epoch+1 && prev.Executed < st.EpochStart && st.Executed >= st.EpochStart
		if !told && !executed {
			return "conformance/epoch", fmt.Sprintf("%s moved from epoch %d to epoch %d (start %d, %v) on %v, neither by executing the RECONFIGURATION nor told by a STARTEPOCH or NEWEPOCH of that epoch", s.Who, prev.Epoch, st.Epoch, st.EpochStart, st.Members, msgOrTick(in))
		}
	}
	// Normal means a member holding the epoch's state.
	if st.Status == vr.Normal {
		if !member || st.Retired {
			return "conformance/epoch", fmt.Sprintf("%s is normal in epoch %d but not a member of its configuration %v (retired %v)", s.Who, st.Epoch, st.Members, st.Retired)
		}
		if st.Executed < st.EpochStart {
			return "conformance/epoch", fmt.Sprintf("%s is normal in epoch %d, which began after op %d, but executed only up to op %d: a member takes part only once it holds the state up to the epoch's start", s.Who, st.Epoch, st.EpochStart, st.Executed)
		}
	}
	// A standby is outside its epoch's configuration; a replica between
	// epochs is a member joining it or a retired one leaving it.
	if (st.Status == vr.Standby && member) || (st.Status == vr.Transitioning && st.Retired == member) {
		return "conformance/epoch", fmt.Sprintf("%s is %v in epoch %d with retired=%v, but it is%s a member of %v", s.Who, st.Status, st.Epoch, st.Retired, map[bool]string{true: "", false: " not"}[member], st.Members)
	}
	// A leaving replica stops only once f'+1 new members hold the state.
	if prev.Status == vr.Transitioning && prev.Retired && prev.Epoch == st.Epoch && st.Status != prev.Status {
		q := len(st.Members)/2 + 1
		got := 0
		for _, p := range st.Members {
			if epochStarted&(1<<uint(p)) != 0 {
				got++
			}
		}
		if st.Status != vr.Standby || got < q {
			return "conformance/retire", fmt.Sprintf("%s, leaving epoch %d's group, became %v having received EPOCHSTARTED from %d new members (it must serve the state until f'+1 = %d have it, then stop)", s.Who, st.Epoch, st.Status, got, q)
		}
	}
	// What a replica outside the protocol may send: standbys and joining
	// members only answers and their state transfer, leaving ones also the
	// state they serve and STARTEPOCH.
	quiet := func(st vr.State) bool { return st.Status == vr.Standby || st.Status == vr.Transitioning }
	if quiet(prev) && quiet(st) && prev.Status == st.Status && prev.Retired == st.Retired {
		for k := range s.Out {
			m := &s.Out[k]
			ok := false
			switch m.Type {
			case vr.MsgNewEpoch:
				ok = true // an answer: the sender's message was of an older epoch (or a client's)
			case vr.MsgNotPrimary:
				ok = m.To == vr.ToClient
			case vr.MsgGetState:
				// Asking a newer epoch's sender about it, or a joining member fetching the state.
				ok = (in != nil && in.Epoch > prev.Epoch) || (st.Status == vr.Transitioning && !st.Retired)
			case vr.MsgNewState, vr.MsgStartEpoch:
				ok = st.Status == vr.Transitioning && st.Retired
			}
			if !ok {
				what := "a standby"
				if st.Status == vr.Transitioning {
					what = "joining epoch " + itoa(st.Epoch) + " without its state yet"
					if st.Retired {
						what = "leaving epoch " + itoa(st.Epoch) + "'s group"
					}
				}
				return "conformance/standby", fmt.Sprintf("%s sent %v while %s (it takes part in nothing; it may only answer%s)", s.Who, m, what, map[bool]string{true: ", serve the state and resend STARTEPOCH", false: ""}[st.Retired && st.Status == vr.Transitioning])
			}
		}
	}
	// EPOCHSTARTED comes only from a member that holds the epoch's state.
	for k := range s.Out {
		m := &s.Out[k]
		if m.Type == vr.MsgEpochStarted && (st.Status != vr.Normal || st.Epoch != m.Epoch || !member || st.Executed < st.EpochStart) {
			return "conformance/epoch", fmt.Sprintf("%s sent %v while %v in epoch %d (executed %d, epoch start %d): only a member holding the epoch's state may", s.Who, m, st.Status, st.Epoch, st.Executed, st.EpochStart)
		}
	}
	return "", ""
}

// EpochAnswer reports whether m, sent in a step on in, is only an answer
// about epochs: NEWEPOCH to an older epoch's sender, or the GETSTATE that
// asks a newer epoch's sender about it. A recovering replica may send them.
func EpochAnswer(in, m *vr.Message, prev vr.State) bool {
	return m.Type == vr.MsgNewEpoch || (m.Type == vr.MsgGetState && in != nil && in.Epoch > prev.Epoch)
}

// JoinAnswer reports whether m, sent on in, is a NEWSTATE answering a
// joining member's GETSTATE (in.Members set) as Part E allows any holder of
// the epoch's state to: with committed ops only, in view 0.
func JoinAnswer(in, m *vr.Message, st vr.State) bool {
	holds := st.Executed >= st.EpochStart && (st.Status == vr.Normal || st.Status == vr.ViewChange || st.Status == vr.StateTransfer || (st.Status == vr.Transitioning && st.Retired))
	return in != nil && in.Type == vr.MsgGetState && in.Members != nil && m.View == 0 && m.CommitNumber == m.OpNumber && holds
}

// EpochStartedOnRecovery reports whether m is the EPOCHSTARTED a replica
// that has just recovered (st: normal) sends: it holds the epoch's state.
func EpochStartedOnRecovery(m *vr.Message, st vr.State) bool {
	return m.Type == vr.MsgEpochStarted && st.Status == vr.Normal
}
