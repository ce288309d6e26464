package tests

// Part B: tests for the "Hints and usual mistakes" of LAB-B.md that the
// other tests cannot see, each a scripted schedule (drop rules) with a
// step-level check.

import (
	"fmt"
	"testing"
	"time"

	"vrlab/tests/harness"
	"vrlab/vr"
)

// TestPrepareIsHeartbeatB: while requests keep arriving, the primary sends
// PREPAREs and never an idle COMMIT; here every COMMIT is lost besides, so
// PREPAREs are all the backups hear. They carry the commit-number, so ops
// commit and the group is healthy: the backups must take each PREPARE as a
// sign of life and keep the view.
func TestPrepareIsHeartbeatB(t *testing.T) {
	c := harness.New(t, 3, "Test (B): PREPARE resets the backups' timer")
	cl := c.NewClient()
	p, v := c.WaitPrimary(primaryTimeout)
	before := submitN(cl, 1, 0)
	c.Drop("COMMIT", func(m vr.Message) bool { return m.Type == vr.MsgCommit })
	// A new client every 20 ms keeps the primary preparing new ops, far more
	// often than a view-change timeout (at least 300 ms).
	var pending []*harness.Pending
	stop := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(stop) {
		l := c.NewClient()
		pending = append(pending, l.Start(l.NextOp(0), 6*opTimeout))
		time.Sleep(20 * time.Millisecond)
		if ok, seen := c.StillPrimary(p, v); !ok {
			st, _ := c.State(p)
			c.Fatalf("R%d stopped being primary of view %d while it sent PREPAREs for %d new ops (op-number %d, commit-number %d; every COMMIT lost): %s\n"+
				"(does a backup reset its view-change timer on PREPARE, not only on COMMIT? a busy primary sends no COMMIT)",
				p, v, st.OpNumber-before, st.OpNumber, st.CommitNumber, seen)
		}
	}
	c.Undrop("COMMIT")
	for _, pd := range pending {
		if _, err := pd.Wait(); err != nil {
			c.Fatalf("after the COMMITs were let through again: %v", err)
		}
	}
}

// TestStartViewAcksB: an op that the backups hold but that is not committed
// when its primary fails must commit in the new view as soon as it starts.
// Every PREPARE of the new view is dropped, so the idle resend cannot help:
// only the PREPAREOK a backup sends on STARTVIEW (for the uncommitted ops of
// the new log) commits it.
func TestStartViewAcksB(t *testing.T) {
	c := harness.New(t, 3, "Test (B): STARTVIEW acknowledged at once")
	cl := c.NewClient()
	p, _ := c.WaitPrimary(primaryTimeout)
	committed := submitN(cl, 1, 0)
	c.Drop("PREPAREOK", func(m vr.Message) bool { return m.Type == vr.MsgPrepareOK })
	pending := cl.Start(cl.NextOp(0), 6*opTimeout)
	backups := []int{(p + 1) % 3, (p + 2) % 3}
	c.Eventually(2*time.Second, "both backups to hold the uncommitted op", func() (bool, string) {
		for _, b := range backups {
			if st, _ := c.State(b); st.OpNumber <= committed {
				return false, fmt.Sprintf("R%d op-number %d", b, st.OpNumber)
			}
		}
		return true, ""
	})
	c.Disconnect(p)
	c.Undrop("PREPAREOK")
	c.Drop("PREPARE", func(m vr.Message) bool { return m.Type == vr.MsgPrepare })
	c.Eventually(2*primaryTimeout, fmt.Sprintf("op %d to commit in the view after R%d was cut off", committed+1, p), func() (bool, string) {
		seen := ""
		for _, b := range backups {
			st, _ := c.State(b)
			if st.IsPrimary && st.CommitNumber > committed {
				return true, ""
			}
			seen += fmt.Sprintf("R%d %v in view %d, op %d, commit %d; ", b, st.Status, st.View, st.OpNumber, st.CommitNumber)
		}
		return false, seen + "(with every PREPARE dropped, only a backup's PREPAREOK on STARTVIEW can commit it: does the backup acknowledge the new log's uncommitted ops at once?)"
	})
	c.Undrop("PREPARE")
	c.Connect(p)
	if _, err := pending.Wait(); err != nil {
		c.Fatalf("%v", err)
	}
}

// TestStateTransferTimeoutB: a replica that hears of a newer view but never
// gets its NEWSTATE must not wait in state-transfer forever: within a
// view-change timeout it starts a view change past that view.
//
//  1. R0 is primary of view 0. R2 stops getting NEWSTATE and every
//     view-change message; it still gets R0's heartbeats, so it stays in
//     view 0.
//  2. R1 stops hearing R0 and starts view 1 with R0.
//  3. R2 hears view 1's heartbeat (a PREPARE or COMMIT): it must start a state transfer, whose
//     NEWSTATE never arrives, while R0 and R1 go on normally in view 1.
func TestStateTransferTimeoutB(t *testing.T) {
	c := harness.New(t, 3, "Test (B): state transfer times out")
	cl := c.NewClient()
	if p, _ := c.WaitPrimary(primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}
	submitN(cl, 1, 0)
	c.Drop("to R2", func(m vr.Message) bool {
		if m.To != 2 {
			return false
		}
		switch m.Type {
		case vr.MsgNewState, vr.MsgStartViewChange, vr.MsgDoViewChange, vr.MsgStartView:
			return true
		}
		return false
	})
	c.Drop("R0 silent to R1", func(m vr.Message) bool {
		return m.From == 0 && m.To == 1 && (m.Type == vr.MsgPrepare || m.Type == vr.MsgCommit)
	})
	c.Eventually(primaryTimeout, "R1 to start view 1", func() (bool, string) {
		st, _ := c.State(1)
		return st.IsPrimary && st.View == 1, fmt.Sprintf("R1 %v in view %d", st.Status, st.View)
	})
	c.Undrop("R0 silent to R1")
	c.Eventually(2*time.Second, "R2 to hear view 1's heartbeat and start a state transfer", func() (bool, string) {
		st, _ := c.State(2)
		return st.Status == vr.StateTransfer, fmt.Sprintf("R2 %v in view %d (a view change of R2's own, if R2 found R0 silent for a whole view-change timeout, also stops this)", st.Status, st.View)
	})
	// Nobody answers R2. A view-change timeout is at most 2T-1 = 59 ticks
	// (R2 has had no failed view change); allow five times that.
	c.Eventually(3*time.Second, "R2, whose NEWSTATE never arrives, to give up its state transfer for a view change past view 1", func() (bool, string) {
		st, _ := c.State(2)
		return st.Status != vr.StateTransfer && st.View >= 2, fmt.Sprintf("R2 %v in view %d", st.Status, st.View)
	})
	c.Undrop("to R2")
	last := submitN(cl, 1, 0)
	c.WaitExecuted(last, c.All(), 5*time.Second)
}

// TestKeepLogInStateTransferB: the example of LAB-B.md ("keep the log whole
// until NEWSTATE arrives"), with 5 replicas. A replica that hears of a newer
// view must not cut its log back to its commit-number before NEWSTATE
// arrives: its PREPAREOK may have been one of the f that committed the ops
// it would throw away.
//
//  1. R0, primary of view 0, commits op 3 with the PREPAREOKs of R1 and R2.
//     R3 and R4 get no PREPARE (they lag at op 2) and R2 no COMMIT (it knows
//     only k = 2).
//  2. R2, hearing nothing more from R0, starts view 1 (primary R1); every
//     STARTVIEW to R2, R3 and R4 and every NEWSTATE to them is lost, so
//     they hear view 1 only from R1's heartbeats and wait in state-transfer.
//  3. R0 and R1 are cut off. R2, R3 and R4 change to a new view, all with
//     last-normal-view 0: only R2's log holds committed op 3.
func TestKeepLogInStateTransferB(t *testing.T) {
	c := harness.New(t, 5, "Test (B): the log kept whole during state transfer")
	cl := c.NewClient()
	if p, _ := c.WaitPrimary(primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}
	last := submitN(cl, 2, 0)
	c.WaitExecuted(last, c.All(), 5*time.Second)

	c.Drop("R3, R4 lag", func(m vr.Message) bool {
		return (m.To == 3 || m.To == 4) && (m.Type == vr.MsgPrepare || m.Type == vr.MsgNewState || m.Type == vr.MsgStartView)
	})
	c.Drop("R2 hears no commit", func(m vr.Message) bool {
		return m.To == 2 && (m.Type == vr.MsgNewState || m.Type == vr.MsgStartView || (m.From == 0 && m.Type == vr.MsgCommit))
	})
	committed := submitN(cl, 1, 0)
	c.Eventually(2*primaryTimeout, "R1 to start view 1 and R2 to wait in state-transfer for it", func() (bool, string) {
		s1, _ := c.State(1)
		s2, _ := c.State(2)
		return s1.IsPrimary && s1.View == 1 && s2.Status == vr.StateTransfer,
			fmt.Sprintf("R1 %v in view %d (primary=%v), R2 %v in view %d", s1.Status, s1.View, s1.IsPrimary, s2.Status, s2.View)
	})
	if st, _ := c.State(2); st.CommitNumber >= committed {
		c.Fatalf("R2 learned commit-number %d; the script needs it below %d", st.CommitNumber, committed)
	}
	c.Disconnect(0)
	c.Disconnect(1)
	c.Undrop("R3, R4 lag")
	c.Undrop("R2 hears no commit")
	p, v := c.WaitPrimary(3 * primaryTimeout)
	if st, _ := c.State(p); st.OpNumber < committed {
		c.Fatalf("R%d started view %d with op-number %d: committed op %d was lost\n"+
			"(did R2 cut its log back to its commit-number when it heard of view 1, before NEWSTATE arrived?)",
			p, v, st.OpNumber, committed)
	}
	if got := cl.Submit(cl.NextOp(0), opTimeout); got != committed+1 {
		c.Fatalf("the next op executed as op %d, expected %d", got, committed+1)
	}
}

// TestGetStateOnlyWhenNormalB: only a replica normal in a view may answer
// GETSTATE for it. R0, cut off as primary of view 0, prepares an op that
// view 1 replaces, and is pulled into the view change to view 1 without
// ever entering it (its STARTVIEW is lost). R2 misses view 1's STARTVIEW
// too, waits in state-transfer for it, and R1's NEWSTATEs to it are lost,
// so R2 asks R0. If R0 answered, R2 would enter view 1 with R0's replaced
// op, acknowledge view 1's own op at that op-number and execute the wrong
// one (an agreement violation). The view-change timeout is 100 ticks here,
// so that R0 is still in view-change for view 1 when R2 asks it.
func TestGetStateOnlyWhenNormalB(t *testing.T) {
	c := harness.New(t, 3, "Test (B): GETSTATE answered only when normal",
		harness.WithOptions(vr.Options{ViewChangeTicks: 100}))
	cl := c.NewClient()
	if p, _ := c.WaitPrimary(3 * primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}
	before := submitN(cl, 1, 0)
	c.WaitExecuted(before, c.All(), 5*time.Second)

	c.Drop("R0 cut off", func(m vr.Message) bool {
		switch {
		case m.From == 0:
			return !(m.To == 2 && m.Type == vr.MsgNewState)
		case m.To == 0:
			return !(m.Type == vr.MsgStartViewChange || (m.From == 2 && m.Type == vr.MsgGetState))
		}
		return false
	})
	c.Drop("view 1 unknown to R2", func(m vr.Message) bool {
		return m.To == 2 && (m.Type == vr.MsgStartView || (m.From == 1 && m.Type == vr.MsgNewState))
	})
	lone := c.NewClient()
	lone.ReachOnly(0)
	lone.Start(lone.NextOp(0), 6*opTimeout)
	c.Eventually(2*time.Second, "the cut-off R0 to prepare the lone client's op", func() (bool, string) {
		st, _ := c.State(0)
		return st.OpNumber > before, fmt.Sprintf("R0 op-number %d", st.OpNumber)
	})
	c.Eventually(3*primaryTimeout, "R1 to start view 1, R0 to be in view-change for it and R2 in state-transfer for it", func() (bool, string) {
		s0, _ := c.State(0)
		s1, _ := c.State(1)
		s2, _ := c.State(2)
		return s1.IsPrimary && s1.View == 1 && s0.Status == vr.ViewChange && s0.View == 1 && s2.Status == vr.StateTransfer,
			fmt.Sprintf("R0 %v in view %d, R1 %v in view %d (primary=%v), R2 %v in view %d",
				s0.Status, s0.View, s1.Status, s1.View, s1.IsPrimary, s2.Status, s2.View)
	})
	// R2 asks R0 within a heartbeat interval; give it a few.
	c.Sleep(400 * time.Millisecond)
	c.Undrop("view 1 unknown to R2")
	c.Undrop("R0 cut off")
	last := submitN(cl, 2, 0)
	lone.ReachMain()
	c.WaitExecuted(last, []int{1, 2}, 5*time.Second)
}
