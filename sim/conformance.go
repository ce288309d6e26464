package sim

import (
	"math/bits"

	"vrlab/vr"
)

// Protocol-rule (conformance) checks: what VR-PROTOCOL.md says a replica may
// send in which state. The end-to-end checks (checker.go) see these rules
// only through their consequences, often much later or never.

// conformance checks what the protocol says a replica may do (rules of
// VR-PROTOCOL.md that the end-to-end checks see only indirectly).
func (s *Sim) conformance(i int, in *vr.Message, prev, st vr.State, out []vr.Message) {
	sl := s.reps[i]
	who := func() string { return s.who(i, sl.life) }
	f := s.cfg.f()
	// §4 [fix]: a recovering replica takes part in nothing until it has
	// recovered, which only a RECOVERYRESPONSE completes, into status normal.
	if prev.Status == vr.Recovering {
		if st.Status != vr.Recovering && (st.Status != vr.Normal || in == nil || in.Type != vr.MsgRecoveryResponse) {
			s.failf("conformance/recovering", "%s left recovery for %v (view %d) on %v, not by completing recovery", who(), st.Status, st.View, msgOrTick(in))
			return
		}
		for k := range out {
			if t := out[k].Type; t != vr.MsgRecovery && !(t == vr.MsgPrepareOK && st.Status == vr.Normal) {
				s.failf("conformance/recovering", "%s sent %v while recovering", who(), &out[k])
				return
			}
		}
	}
	// §6 [fix]: last-normal-view changes only on entering status normal.
	if st.LastNormalView != prev.LastNormalView && st.Status != vr.Normal {
		s.failf("conformance/view", "%s set last-normal-view %d→%d in status %v (view %d), not by becoming normal", who(), prev.LastNormalView, st.LastNormalView, st.Status, st.View)
		return
	}
	// §3 step 2: DOVIEWCHANGE only with STARTVIEWCHANGE from f others; the
	// new primary starts the view only after the same (its own DOVIEWCHANGE).
	for k := range out {
		if m := &out[k]; m.Type == vr.MsgDoViewChange && bits.OnesCount32(sl.svcFrom[m.View]) < f {
			s.failf("conformance/viewchange", "%s sent %v having received STARTVIEWCHANGE for view %d from only %d others (needs f=%d)", who(), m, m.View, bits.OnesCount32(sl.svcFrom[m.View]), f)
			return
		}
	}
	if st.IsPrimary && st.Status == vr.Normal && prev.Status == vr.ViewChange && bits.OnesCount32(sl.svcFrom[st.View]) < f {
		s.failf("conformance/viewchange", "%s started view %d having received STARTVIEWCHANGE for it from only %d others (needs f=%d)", who(), st.View, bits.OnesCount32(sl.svcFrom[st.View]), f)
		return
	}
	// §2 step 5: the primary commits op k only once f backups sent
	// PREPAREOK for k (or later) in this view.
	if st.IsPrimary && prev.IsPrimary && prev.View == st.View && st.CommitNumber > prev.CommitNumber {
		acks := 0
		for j, n := range s.okSent[st.View] {
			if j != i && n >= st.CommitNumber {
				acks++
			}
		}
		if acks < f {
			s.failf("conformance/commit", "%s committed op %d in view %d with PREPAREOK for it from only %d backups (needs f=%d)", who(), st.CommitNumber, st.View, acks, f)
			return
		}
	}
	// §5: a replica checkpoints every CheckpointEvery executed ops, so what
	// it has executed past its latest checkpoint stays below that.
	if k := s.cfg.CheckpointEvery; k > 0 && st.Executed-st.CheckpointOpNumber >= k {
		s.failf("conformance/checkpoint", "%s executed op %d but its latest checkpoint is at op %d; with CheckpointEvery %d it must checkpoint every %d executed ops", who(), st.Executed, st.CheckpointOpNumber, k, k)
		return
	}
	// §3 [fix]: a replica in view-change resends STARTVIEWCHANGE every
	// heartbeat interval.
	if st.Status == vr.ViewChange && s.now-sl.lastSVC > s.cfg.HeartbeatTicks {
		resent := false
		for k := range out {
			resent = resent || out[k].Type == vr.MsgStartViewChange
		}
		if !resent {
			s.failf("conformance/resend", "%s has been in view-change for view %d %d ticks without resending STARTVIEWCHANGE", who(), st.View, s.now-sl.lastSVC)
		}
	}
}

func msgOrTick(m *vr.Message) string {
	if m == nil {
		return "a tick"
	}
	return m.String()
}
