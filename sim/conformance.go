package sim

import (
	"vrlab/sim/check"
	"vrlab/vr"
)

// Protocol-rule (conformance) checks: what VR-PROTOCOL.md says a replica may
// send in which state. The end-to-end checks (package check's Log) see these
// rules only through their consequences, often much later or never. The rules
// that need only one step live in package check, shared with the search; the
// ones here need the simulator's clock or configuration.

// conformance checks one step of replica i: in is the message it processed
// (nil for a tick), prev and st its state before and after, out what it sent.
func (s *Sim) conformance(i int, in *vr.Message, prev, st vr.State, out []vr.Message) {
	sl := s.reps[i]
	step := check.Step{Who: s.who(i, sl.life), Self: i, F: (len(prev.Members) - 1) / 2, In: in, Prev: prev, St: st, Out: out, SVCFrom: sl.svcFrom, OKSent: s.okSent}
	if name, msg := check.Rules(&step); name != "" {
		s.failf(name, "%s", msg)
		return
	}
	// §5: a replica checkpoints every CheckpointEvery executed ops, so what
	// it has executed past its latest checkpoint stays below that.
	// (Part E: counted in the ops its service applied, sm.Count, as a
	// RECONFIGURATION is not applied and takes no checkpoint.)
	if k := s.cfg.CheckpointEvery; k > 0 && sl.sm.Count-st.CheckpointOpNumber >= k {
		s.failf("conformance/checkpoint", "%s executed op %d but its latest checkpoint is at op %d; with CheckpointEvery %d it must checkpoint every %d executed ops", step.Who, sl.sm.Count, st.CheckpointOpNumber, k, k)
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
			s.failf("conformance/resend", "%s has been in view-change for view %d %d ticks without resending STARTVIEWCHANGE", step.Who, st.View, s.now-sl.lastSVC)
		}
	}
}
