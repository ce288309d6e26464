package tests

// Part E: reconfiguration with epochs. See LAB-E.md.

import (
	"testing"
	"time"

	"vrlab/tests/harness"
	"vrlab/vr"
)

// epochTimeout bounds a whole reconfiguration: the RECONFIGURATION commits,
// the new members fetch the state, the leaving ones stop.
const epochTimeout = 10 * time.Second

// startingWith runs a cluster whose epoch-0 configuration is members; the
// other replicas are standbys.
func startingWith(members ...int) harness.Option {
	return harness.WithOptions(vr.Options{Members: members})
}

// reconfigure moves the group to members as a fresh administrator and waits
// for the new epoch; it returns the new primary.
func reconfigure(c *harness.Cluster, epoch int, members ...int) int {
	admin := c.NewClient()
	if err := admin.Reconfigure(members, epochTimeout); err != nil {
		c.Fatalf("Reconfigure(%v): %v", members, err)
	}
	return c.WaitEpoch(epoch, members, epochTimeout)
}

// TestGrowE: 3 → 5 under load. The two standbys join; then the new group
// survives the crash of two of the original three, which f'=2 allows.
func TestGrowE(t *testing.T) {
	c := harness.New(t, 5, "Test (E): grow 3 → 5 under load", startingWith(0, 1, 2))
	c.WaitPrimary(5 * time.Second)
	load := c.StartLoad(3, opTimeout)
	load.WaitProgress(20, 5*time.Second)
	reconfigure(c, 1, 0, 1, 2, 3, 4)
	load.WaitProgress(load.Progress()+20, 5*time.Second)
	c.Crash(0)
	c.Crash(1)
	load.WaitProgress(load.Progress()+20, 10*time.Second)
	load.Stop()
	c.WaitConverged(5 * time.Second)
}

// TestShrinkE: 5 → 3. The two leaving replicas serve the state until f'+1
// new members confirm they hold it, then stop.
func TestShrinkE(t *testing.T) {
	c := harness.New(t, 5, "Test (E): shrink 5 → 3")
	c.WaitPrimary(5 * time.Second)
	cl := c.NewClient()
	for i := 0; i < 10; i++ {
		cl.Submit(cl.NextOp(0), opTimeout)
	}
	reconfigure(c, 1, 2, 3, 4)
	for i := 0; i < 10; i++ {
		cl.Submit(cl.NextOp(0), opTimeout)
	}
	for _, i := range []int{0, 1} {
		if st, _ := c.State(i); !st.Retired {
			c.Fatalf("R%d left the configuration but is not Retired: %s", i, harness.StateLabel(st))
		}
	}
}
