package sim

import (
	"fmt"
	"strings"

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
	// §7: a replica that granted a lease takes no part in a view change for
	// LeaseTicks of its own ticks; a restarted one, for LeaseTicks after its
	// restart.
	if s.cfg.LeaseTicks > 0 {
		for k := range out {
			switch m := &out[k]; m.Type {
			case vr.MsgPrepareOK, vr.MsgCommitOK:
				if m.Grant {
					sl.promise = max(sl.promise, sl.ticks+s.cfg.LeaseTicks)
				}
			case vr.MsgStartViewChange, vr.MsgDoViewChange:
				if sl.ticks < sl.promise {
					s.failf("conformance/promise", "%s sent %v at its tick %d, but it promised no view change before its tick %d (a lease it granted)", step.Who, m, sl.ticks, sl.promise)
					return
				}
			}
		}
	}
	if in != nil && in.Type == vr.MsgRequest && in.ReadOnly && st.IsPrimary {
		for k := range out {
			if m := &out[k]; m.Type == vr.MsgReply && m.ClientID == in.ClientID && m.RequestNum == in.RequestNum && !s.throughLog(m) {
				if name, msg := s.leaseReadRule(i, st); name != "" {
					s.failf(name, "%s", msg)
					return
				}
			}
		}
	}
	// §3 [fix]: a replica in view-change resends STARTVIEWCHANGE every
	// heartbeat interval: by its own clock, which may run slow (clock.go).
	if st.Status == vr.ViewChange && s.sinceSVC(sl) > s.cfg.HeartbeatTicks {
		resent := false
		for k := range out {
			resent = resent || out[k].Type == vr.MsgStartViewChange
		}
		if !resent {
			s.failf("conformance/resend", "%s has been in view-change for view %d %d of its ticks without resending STARTVIEWCHANGE", step.Who, st.View, s.sinceSVC(sl))
		}
	}
}

// sinceSVC is how long ago replica slot sl last sent STARTVIEWCHANGE: in
// simulated ticks, or with clock rates (clock.go) in ticks of its clock.
func (s *Sim) sinceSVC(sl *replica) int {
	if s.rates == nil {
		return s.now - sl.lastSVC
	}
	return sl.ticks - sl.lastSVCTicks
}

// leaseReadRule checks a read that primary i just answered from its state,
// under its leases (§7), against what the simulator knows of every replica:
// no higher view has started, and at least f backups cannot help start one
// now: each is keeping a promise (its clock is short of the end of the
// leases it granted), or it is down or recovering. With fewer, f+1 of the
// others could start a view change at once, and the read could be stale;
// that the schedule did not start one does not make the lease sound.
func (s *Sim) leaseReadRule(i int, st vr.State) (string, string) {
	who := s.who(i, s.reps[i].life)
	if v := s.chk.MaxPrimaryView(); v > st.View {
		return "conformance/lease", fmt.Sprintf("%s answered a read under its lease in view %d, but view %d has started", who, st.View, v)
	}
	keeping, free := 0, []string{}
	for j, sl := range s.reps {
		switch {
		case j == i:
		case !sl.up || sl.prev.Status == vr.Recovering || sl.ticks < sl.promise:
			keeping++
		default:
			free = append(free, fmt.Sprintf("R%d (its tick %d, promise to %d)", j, sl.ticks, sl.promise))
		}
	}
	if keeping < s.cfg.f() {
		return "conformance/lease", fmt.Sprintf("%s answered a read under its lease in view %d while only %d backups kept a promise (f=%d needed); free to start a view change: %s",
			who, st.View, keeping, s.cfg.f(), strings.Join(free, ", "))
	}
	return "", ""
}

// throughLog reports whether REPLY m answers a request that executed
// through the log (its result names the request's own op), as a resent
// reply does; a lease read's names the last op of the state it read.
func (s *Sim) throughLog(m *vr.Message) bool {
	c := s.clientByID[m.ClientID]
	n, _, ok := check.DecodeResult(m.Result)
	return c != nil && ok && s.chk.Op(n) == check.OpKey(c.idx, m.RequestNum)
}
