package check

import (
	"fmt"
	"math/bits"

	"vrlab/vr"
)

// Step is one step of one replica (a message delivered, a tick, or its
// start), as the protocol rules see it.
type Step struct {
	Who      string      // names the replica's life in messages
	Self     int         // its replica number
	F        int         // the group's f
	In       *vr.Message // the message delivered; nil for a tick or start
	Prev, St vr.State    // its state before and after
	Out      []vr.Message

	// SVCFrom: the STARTVIEWCHANGEs this life received, by ViewKey(epoch,
	// view), as a bit set of senders (including In, if it is one).
	SVCFrom map[int]uint32
	// OKSent: by ViewKey(epoch, view), the highest PREPAREOK each replica
	// sent in that view (any life), before this step.
	OKSent map[int][]int
}

// Rules checks what VR-PROTOCOL.md says a replica may do in one step: rules
// the end-to-end checks (Log) see only indirectly, or only much later. It
// returns the broken rule's check name and a message, or "" if none broke.
// (The rule that a stalled view change resends its STARTVIEWCHANGE is about
// time; the simulator checks it itself.)
func Rules(s *Step) (check, msg string) {
	prev, st := s.Prev, s.St
	// §4 [fix]: a recovering replica takes part in nothing until it has
	// recovered, which only a RECOVERYRESPONSE completes, into status normal.
	if prev.Status == vr.Recovering {
		// (Part E: or, told of a newer epoch it is not a member of, it is a standby.)
		toStandby := st.Status == vr.Standby && st.Epoch > prev.Epoch
		if st.Status != vr.Recovering && !toStandby && (st.Status != vr.Normal || s.In == nil || s.In.Type != vr.MsgRecoveryResponse) {
			return "conformance/recovering", fmt.Sprintf("%s left recovery for %v (view %d) on %v, not by completing recovery", s.Who, st.Status, st.View, msgOrTick(s.In))
		}
		for k := range s.Out {
			if t := s.Out[k].Type; t != vr.MsgRecovery && !(t == vr.MsgPrepareOK && st.Status == vr.Normal) && !EpochAnswer(s.In, &s.Out[k], prev) && !EpochStartedOnRecovery(&s.Out[k], st) {
				return "conformance/recovering", fmt.Sprintf("%s sent %v while recovering", s.Who, &s.Out[k])
			}
		}
	}
	// §6 [fix]: last-normal-view changes only on entering status normal.
	// (Part E: a new epoch starts at view 0 with last-normal-view 0.)
	if st.LastNormalView != prev.LastNormalView && st.Status != vr.Normal && st.Epoch == prev.Epoch {
		return "conformance/view", fmt.Sprintf("%s set last-normal-view %d→%d in status %v (view %d), not by becoming normal", s.Who, prev.LastNormalView, st.LastNormalView, st.Status, st.View)
	}
	for k := range s.Out {
		m := &s.Out[k]
		switch m.Type {
		case vr.MsgDoViewChange:
			// §3 step 2: DOVIEWCHANGE only with STARTVIEWCHANGE from f others.
			if got := bits.OnesCount32(s.SVCFrom[ViewKey(m.Epoch, m.View)]); got < s.F {
				return "conformance/viewchange", fmt.Sprintf("%s sent %v having received STARTVIEWCHANGE for view %d from only %d others (needs f=%d)", s.Who, m, m.View, got, s.F)
			}
		case vr.MsgNewState:
			// §6: only a replica normal in the view asked about answers
			// GETSTATE; any other's log is not that view's. (Part E: a
			// joining member's GETSTATE is answered by any holder of the
			// epoch's state, with committed ops only.)
			if (st.Status != vr.Normal || st.View != m.View) && !JoinAnswer(s.In, m, st) {
				return "conformance/statetransfer", fmt.Sprintf("%s answered GETSTATE with %v while %v in view %d (only a replica normal in view %d may answer)", s.Who, m, st.Status, st.View, m.View)
			}
		case vr.MsgRecoveryResponse:
			// §4 step 2: only a normal replica answers RECOVERY, with its view.
			if st.Status != vr.Normal || st.View != m.View {
				return "conformance/recovery", fmt.Sprintf("%s answered RECOVERY with %v while %v in view %d (only a normal replica may answer)", s.Who, m, st.Status, st.View)
			}
		}
	}
	// §3: the new primary starts the view only after STARTVIEWCHANGE from f
	// others too (its own DOVIEWCHANGE needs them).
	// (Part E: view 0 of a new epoch needs none.)
	if st.IsPrimary && prev.Status == vr.ViewChange && st.Epoch == prev.Epoch {
		if got := bits.OnesCount32(s.SVCFrom[ViewKey(st.Epoch, st.View)]); got < s.F {
			return "conformance/viewchange", fmt.Sprintf("%s started view %d having received STARTVIEWCHANGE for it from only %d others (needs f=%d)", s.Who, st.View, got, s.F)
		}
	}
	// §2 step 5: the primary commits op k only once f backups sent
	// PREPAREOK for k (or later) in this view.
	if st.IsPrimary && prev.IsPrimary && prev.View == st.View && st.CommitNumber > prev.CommitNumber {
		acks := 0
		for j, n := range s.OKSent[ViewKey(prev.Epoch, st.View)] { // (the epoch it committed in: committing a RECONFIGURATION ends it)
			if j != s.Self && n >= st.CommitNumber {
				acks++
			}
		}
		if acks < s.F {
			return "conformance/commit", fmt.Sprintf("%s committed op %d in view %d with PREPAREOK for it from only %d backups (needs f=%d)", s.Who, st.CommitNumber, st.View, acks, s.F)
		}
	}
	return "", ""
}

func msgOrTick(m *vr.Message) string {
	if m == nil {
		return "a tick"
	}
	return m.String()
}
