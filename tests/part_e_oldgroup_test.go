package tests

import (
	"fmt"
	"testing"
	"time"

	"vrlab/tests/harness"
	"vrlab/vr"
)

// TestOldBackupsServeStateE: a replace-all reconfiguration, [0 1 2] →
// [3 4 5], whose old primary crashes once the RECONFIGURATION has
// committed and the old backups have moved to epoch 1, before any new
// member has the state (the NEWSTATEs to them are dropped until then). One
// crash in the old group is within f: the old backups hold every op and
// must serve the state to the new members, which then start epoch 1 with
// every op. (The backups hear of epoch 1 from the new members before they
// learn that the RECONFIGURATION committed: a backup that then becomes a
// standby, instead of executing into the epoch from its own log, serves
// nothing, and the group is stuck for good.)
func TestOldBackupsServeStateE(t *testing.T) {
	c := harness.New(t, 6, "Test (E): old backups serve the state after the old primary crashes",
		harness.WithOptions(vr.Options{Members: []int{0, 1, 2}}))
	p, _ := c.WaitPrimary(primaryTimeout)
	cl := c.NewClient()
	for i := 0; i < 5; i++ {
		cl.Submit(cl.NextOp(0), opTimeout)
	}
	const rule = "no NEWSTATE to the new members"
	c.Drop(rule, func(m vr.Message) bool { return m.Type == vr.MsgNewState && m.To >= 3 })
	admin := c.NewClient()
	done := make(chan error, 1)
	go func() { done <- admin.Reconfigure([]int{3, 4, 5}, 10*time.Second) }()
	c.Eventually(5*time.Second, fmt.Sprintf("the old backups (not R%d) to move to epoch 1", p), func() (bool, string) {
		for i := 0; i < 3; i++ {
			if st, _ := c.State(i); i != p && st.Epoch != 1 {
				return false, c.Epochs()
			}
		}
		return true, ""
	})
	c.Crash(p)
	c.Undrop(rule)
	if err := <-done; err != nil {
		c.Fatalf("with the old primary R%d crashed after the RECONFIGURATION committed: %v.\n"+
			"The old backups hold the state up to the epoch's start: told of epoch 1, each must execute into it from its own log "+
			"and serve the state until f'+1 new members hold it; a backup that becomes a standby at once serves nothing", p, err)
	}
	c.WaitEpoch(1, []int{3, 4, 5}, epochTimeout)
	c.WaitExecuted(5, []int{3, 4, 5}, epochTimeout) // op 6, the RECONFIGURATION, is no service op
	cl.Submit(cl.NextOp(0), opTimeout)
}
