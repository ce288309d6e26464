package harness

import (
	"fmt"
	"time"

	"vrlab/vr"
)

// pollEvery is how often the bounded waits look at the cluster.
const pollEvery = 10 * time.Millisecond

// Eventually polls cond until it holds, failing the test after timeout with
// what it waited for and what it last saw.
func (c *Cluster) Eventually(timeout time.Duration, what string, cond func() (ok bool, seen string)) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c.checkSafety()
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.Fatalf("waited %v for %s; saw %s", timeout, what, seen)
		}
		time.Sleep(pollEvery)
	}
}

// During checks cond throughout d, failing the test the first time it does
// not hold.
func (c *Cluster) During(d time.Duration, what string, cond func() (ok bool, seen string)) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c.checkSafety()
		if ok, seen := cond(); !ok {
			c.Fatalf("expected %s throughout %v; saw %s", what, d, seen)
		}
		time.Sleep(pollEvery)
	}
}

// Sleep lets the cluster run for d while the checkers watch.
func (c *Cluster) Sleep(d time.Duration) {
	c.t.Helper()
	c.During(d, "safety", func() (bool, string) { return true, "" })
}

// primaryAmong returns the replica of group that is primary of the highest
// view any of them is in (of the highest epoch), if a quorum of its epoch's
// configuration is normal in that view with it (so the view is really
// established), or -1.
func (c *Cluster) primaryAmong(group []int) (int, int, string) {
	var top epochView
	for _, i := range group {
		if st, ok := c.State(i); ok && (epochView{st.Epoch, st.View}).atLeast(top) {
			top = epochView{st.Epoch, st.View}
		}
	}
	primary, normal, members := -1, 0, []int(nil)
	for _, i := range group {
		st, ok := c.State(i)
		if !ok || (epochView{st.Epoch, st.View}) != top || st.Status != vr.Normal {
			continue
		}
		normal++
		if st.IsPrimary {
			primary, members = i, st.Members
		}
	}
	if primary < 0 {
		return -1, top.View, fmt.Sprintf("no primary of %v among %v", top, group)
	}
	if normal < len(members)/2+1 {
		return -1, top.View, fmt.Sprintf("R%d primary of %v but only %d replicas normal in it", primary, top, normal)
	}
	return primary, top.View, ""
}

// WaitPrimary waits until the connected replicas have an established
// primary and returns it and its view.
func (c *Cluster) WaitPrimary(timeout time.Duration) (primary, view int) {
	c.t.Helper()
	c.Eventually(timeout, "an established primary among the connected replicas", func() (bool, string) {
		var seen string
		primary, view, seen = c.primaryAmong(c.Connected())
		return primary >= 0, seen
	})
	return primary, view
}

// WaitExecuted waits until every listed replica's service executed op n.
func (c *Cluster) WaitExecuted(n int, replicas []int, timeout time.Duration) {
	c.t.Helper()
	c.Eventually(timeout, fmt.Sprintf("replicas %v to execute op %d", replicas, n), func() (bool, string) {
		for _, i := range replicas {
			if !c.Alive(i) || c.Executed(i) < n {
				return false, fmt.Sprintf("R%d executed up to op %d", i, c.Executed(i))
			}
		}
		return true, ""
	})
}

// All lists every replica.
func (c *Cluster) All() []int {
	all := make([]int, c.n)
	for i := range all {
		all[i] = i
	}
	return all
}

// AllNormalIn reports whether every live replica is normal in view v.
func (c *Cluster) AllNormalIn(v int) (bool, string) {
	for i := 0; i < c.n; i++ {
		st, ok := c.State(i)
		if ok && (st.Status != vr.Normal || st.View != v) {
			return false, fmt.Sprintf("R%d %v in view %d", i, st.Status, st.View)
		}
	}
	return true, ""
}

// StillPrimary reports whether p is primary of view v and no connected
// replica is in a higher view.
func (c *Cluster) StillPrimary(p, v int) (bool, string) {
	if st, _ := c.State(p); !st.IsPrimary || st.View != v {
		return false, fmt.Sprintf("R%d %v in view %d (primary=%v)", p, st.Status, st.View, st.IsPrimary)
	}
	for _, i := range c.Connected() {
		if st, _ := c.State(i); st.View > v {
			return false, fmt.Sprintf("R%d moved to view %d", i, st.View)
		}
	}
	return true, ""
}

// NoPrimaryAbove reports whether no replica is primary of a view above v.
func (c *Cluster) NoPrimaryAbove(v int) (bool, string) {
	for i := 0; i < c.n; i++ {
		if st, ok := c.State(i); ok && st.IsPrimary && st.View > v {
			return false, fmt.Sprintf("R%d is primary of view %d", i, st.View)
		}
	}
	return true, ""
}

// WaitConverged waits until every live replica of the main group is normal
// in one view and executed every op its primary committed, and returns that
// op-number.
func (c *Cluster) WaitConverged(timeout time.Duration) int {
	c.t.Helper()
	var done int
	c.Eventually(timeout, "the connected replicas to converge (one view, every committed op executed everywhere)", func() (bool, string) {
		group := c.Connected()
		p, v, seen := c.primaryAmong(group)
		if p < 0 {
			return false, seen
		}
		pst, _ := c.State(p)
		done = pst.CommitNumber
		for _, i := range group {
			st, _ := c.State(i)
			if !contains(pst.Members, i) {
				continue // a standby, or removed
			}
			if st.View != v || st.Epoch != pst.Epoch || st.Status != vr.Normal || st.Executed != done {
				return false, fmt.Sprintf("R%d %v in %v executed %d; primary R%d of %v committed %d",
					i, st.Status, epochView{st.Epoch, st.View}, st.Executed, p, epochView{pst.Epoch, v}, done)
			}
		}
		return true, ""
	})
	return done
}

// WaitRecovered waits until restarted replica i has finished recovery —
// by the recovery protocol: a replica that lost its state and got going
// again without a RECOVERY reaching anyone skipped the protocol.
func (c *Cluster) WaitRecovered(i int, timeout time.Duration) {
	c.t.Helper()
	c.Eventually(timeout, fmt.Sprintf("R%d to finish recovery", i), func() (bool, string) {
		st, ok := c.State(i)
		return ok && st.Status != vr.Recovering, fmt.Sprintf("R%d %v in view %d", i, st.Status, st.View)
	})
	c.mu.Lock()
	sent := c.recovery[i]
	c.mu.Unlock()
	if sent == 0 {
		st, _ := c.State(i)
		c.Fatalf("R%d restarted with an empty state and became %v without running the recovery protocol: no RECOVERY from it reached any replica.\n"+
			"A restarted replica must recover its state from f+1 others before it takes part in anything (VR-PROTOCOL.md §4)", i, st.Status)
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
