package tests

// Part A: view change. See LAB-A.md.

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"vrlab/tests/harness"
	"vrlab/vr"
)

// primaryTimeout bounds the wait for a view change: a few view-change
// timeouts (300 ms to notice a silent primary, 300–590 ms to abandon a
// stalled view change, with the default timing).
const primaryTimeout = 5 * time.Second

// TestInitialViewA: the primary of view 0 is replica 0 from the start; while
// nothing happens it sends COMMIT heartbeats and nobody changes view.
func TestInitialViewA(t *testing.T) {
	c := harness.New(t, 3, "Test (A): initial view")
	p, v := c.WaitPrimary(primaryTimeout)
	if p != 0 || v != 0 {
		c.Fatalf("expected replica 0 to be primary of view 0 at start, got R%d in view %d", p, v)
	}
	c.ResetCounters()
	c.During(2*time.Second, "every replica normal in view 0 (no view change while the primary is up)", func() (bool, string) {
		return c.AllNormalIn(0)
	})
	// Without heartbeats the backups would have no way to tell a quiet
	// primary from a dead one.
	if min := (c.N() - 1) * 2 * 2; c.RPCs() < min {
		c.Fatalf("expected the idle primary to send COMMIT heartbeats (at least %d RPCs in 2s for %d backups), saw %d RPCs",
			min, c.N()-1, c.RPCs())
	}
}

// TestPrimaryFailureA: when the primary is cut off, the others move to a
// higher view with a new primary; the old primary's return does not disturb
// it, and it takes part in the next view change.
func TestPrimaryFailureA(t *testing.T) {
	c := harness.New(t, 3, "Test (A): primary failure")
	p0, v0 := c.WaitPrimary(primaryTimeout)

	c.Disconnect(p0)
	p1, v1 := c.WaitPrimary(primaryTimeout)
	if v1 <= v0 || p1 == p0 {
		c.Fatalf("after cutting off primary R%d of view %d, expected a new primary in a higher view; got R%d in view %d", p0, v0, p1, v1)
	}

	c.Connect(p0)
	c.During(time.Second, fmt.Sprintf("R%d to stay primary of view %d after old primary R%d returns", p1, v1, p0), func() (bool, string) {
		return c.StillPrimary(p1, v1)
	})

	// The old primary must now follow the group: without it and p1 there
	// is no quorum, so a new view needs it.
	c.Disconnect(p1)
	p2, v2 := c.WaitPrimary(primaryTimeout)
	if v2 <= v1 || p2 == p1 {
		c.Fatalf("after cutting off primary R%d of view %d, expected a new primary in a higher view; got R%d in view %d", p1, v1, p2, v2)
	}
}

// TestNoQuorumA: with a majority cut off, no replica becomes primary of a new
// view; once healed, the group has a primary again.
func TestNoQuorumA(t *testing.T) {
	c := harness.New(t, 5, "Test (A): no quorum")
	p, v := c.WaitPrimary(primaryTimeout)

	// Cut off the primary and two backups, each on its own: the two left
	// together are two replicas of five, one short of a quorum.
	cut := []int{p, (p + 1) % 5, (p + 2) % 5}
	for _, i := range cut {
		c.Disconnect(i)
	}
	c.ResetCounters()
	c.During(stalledWindow, fmt.Sprintf("no primary of a view above %d while %v are cut off", v, cut), func() (bool, string) {
		return c.NoPrimaryAbove(v)
	})
	// A stalled view change resends once per heartbeat interval, not per tick.
	if n := c.RPCs(); n > stalledRPCs {
		c.Fatalf("in %v without a quorum the group sent %d RPCs; the budget is %d. Resending STARTVIEWCHANGE every tick "+
			"instead of every heartbeat interval, or heartbeats on every tick, would explain it", stalledWindow, n, stalledRPCs)
	}
	// Each cut-off backup times out alone, again and again; with the timeout
	// doubling after each abandoned view change it gets through few views.
	for _, i := range cut[1:] {
		st, _ := c.State(i)
		if st.View-v > stalledMaxViews {
			c.Fatalf("R%d, cut off alone for %v, moved from view %d to view %d (%d views); with the view-change timeout doubling "+
				"after each abandoned view change (failedViewChanges, up to 8x) it can move at most %d", i, stalledWindow, v, st.View, st.View-v, stalledMaxViews)
		}
	}

	c.Heal()
	if _, v2 := c.WaitPrimary(primaryTimeout); v2 <= v {
		c.Fatalf("after healing expected a primary in a view above %d, got view %d", v, v2)
	}
}

// The stalled group of TestNoQuorumA: how long it is watched, its RPC budget
// (LAB-A.md), and how many views a replica cut off alone may move through:
// with the timeout doubling, at most 4 view changes fit in 5 s (0.3+0.6+1.2+2.4 s
// at the shortest); without, at least 8 do.
const (
	stalledWindow   = 5 * time.Second
	stalledRPCs     = 1500
	stalledMaxViews = 6
)

// TestNewPrimaryFailsA: the replica that would be the next primary is down
// too, so the view change to v+1 cannot finish; the others must move on to a
// later view whose primary is up.
func TestNewPrimaryFailsA(t *testing.T) {
	c := harness.New(t, 5, "Test (A): new primary fails during the view change")
	p, v := c.WaitPrimary(primaryTimeout)
	next := (v + 1) % 5
	c.Disconnect(p)
	c.Disconnect(next)

	p2, v2 := c.WaitPrimary(2 * primaryTimeout)
	if v2 < v+2 {
		c.Fatalf("expected the group to settle in view %d or later (view %d's primary R%d is down), got view %d", v+2, v+1, next, v2)
	}
	if p2 != v2%5 || p2 == p || p2 == next {
		c.Fatalf("view %d has primary R%d, expected R%d (view mod 5) among the connected replicas", v2, p2, v2%5)
	}
}

// TestManyViewChangesA: 7 replicas; again and again the primary and up to
// two others are cut off at random. The connected majority always ends up
// with one primary; the watcher checks every view had at most one.
func TestManyViewChangesA(t *testing.T) {
	c := harness.New(t, 7, "Test (A): many view changes")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	p, _ := c.WaitPrimary(primaryTimeout)
	for iter := 0; iter < 8; iter++ {
		c.Disconnect(p)
		for _, i := range rng.Perm(7)[:rng.Intn(3)] {
			c.Disconnect(i)
		}
		p, _ = c.WaitPrimary(2 * primaryTimeout)
		c.Heal()
	}
	c.WaitPrimary(2 * primaryTimeout)
}

// TestUnreliableViewChangeA: view changes still complete when messages are
// delayed, dropped and reordered.
func TestUnreliableViewChangeA(t *testing.T) {
	c := harness.New(t, 5, "Test (A): view changes on an unreliable network", harness.Unreliable())
	p, v := c.WaitPrimary(2 * primaryTimeout)
	for iter := 0; iter < 3; iter++ {
		c.Disconnect(p)
		p2, v2 := c.WaitPrimary(3 * primaryTimeout)
		if v2 <= v {
			c.Fatalf("after cutting off primary R%d of view %d, expected a higher view, got R%d in view %d", p, v, p2, v2)
		}
		c.Connect(p)
		p, v = p2, v2
	}
}

// TestOwnStartViewChangeA: a replica's own STARTVIEWCHANGE is not one of
// the f it needs. Of five replicas, R2 and R3 are cut off together: each
// hears the other's STARTVIEWCHANGE only — one, where f=2 are needed — so
// neither may send DOVIEWCHANGE.
func TestOwnStartViewChangeA(t *testing.T) {
	c := harness.New(t, 5, "Test (A): own STARTVIEWCHANGE not counted")
	_, v := c.WaitPrimary(primaryTimeout)
	pair := func(i int) bool { return i == 2 || i == 3 }
	var mu sync.Mutex
	tried, sent := 0, 0
	c.Drop("cut off {R2, R3}", func(m vr.Message) bool {
		mu.Lock()
		defer mu.Unlock()
		if pair(m.From) && pair(m.To) && m.Type == vr.MsgStartViewChange {
			tried++
		}
		if pair(m.From) && m.Type == vr.MsgDoViewChange {
			sent++
		}
		return pair(m.From) != pair(m.To)
	})
	c.Sleep(1500 * time.Millisecond)
	mu.Lock()
	triedN, sentN := tried, sent
	mu.Unlock()
	if triedN == 0 {
		c.Fatalf("R2 and R3, cut off from the primary for 1.5s, never sent each other STARTVIEWCHANGE")
	}
	if sentN > 0 {
		c.Fatalf("R2 or R3 sent %d DOVIEWCHANGE after hearing STARTVIEWCHANGE from only one other replica (resent, so maybe several copies); "+
			"f=2 distinct others are needed. Counting its own STARTVIEWCHANGE, or counting copies rather than senders, would explain it", sentN)
	}
	// Back together, their higher view draws everyone into a view change.
	c.Undrop("cut off {R2, R3}")
	if _, v2 := c.WaitPrimary(2 * primaryTimeout); v2 <= v {
		c.Fatalf("after R2 and R3 returned from higher views, expected a view above %d, got %d", v, v2)
	}
}

// TestStartViewChangeLostA: the first copy of every STARTVIEWCHANGE is lost.
// Only a replica that resends while its view change is stalled gets a new
// primary ([fix]); moving on to the next view does not help, since that
// view's first copies are lost too.
func TestStartViewChangeLostA(t *testing.T) {
	c := harness.New(t, 3, "Test (A): first STARTVIEWCHANGE copies lost")
	p, v := c.WaitPrimary(primaryTimeout)
	var mu sync.Mutex
	seen := map[[3]int]bool{}
	c.Drop("first copy of each STARTVIEWCHANGE", func(m vr.Message) bool {
		if m.Type != vr.MsgStartViewChange {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		k := [3]int{m.From, m.To, m.View}
		first := !seen[k]
		seen[k] = true
		return first
	})
	c.Disconnect(p)
	p2, v2 := c.WaitPrimary(2 * primaryTimeout)
	if v2 <= v || p2 == p {
		c.Fatalf("after cutting off primary R%d of view %d, expected a new primary in a higher view; got R%d in view %d", p, v, p2, v2)
	}
}

// TestLateStartViewChangeA: the new primary's STARTVIEW to one backup is
// lost, and so is everything else the primary sends it until it has sent that
// backup STARTVIEW a second time. The backup stays in view-change and resends
// its STARTVIEWCHANGE and DOVIEWCHANGE; the primary, already normal in the
// view, must answer them with STARTVIEW. Otherwise the backup's timer fires
// and it drags the group into another view change.
func TestLateStartViewChangeA(t *testing.T) {
	c := harness.New(t, 3, "Test (A): late STARTVIEWCHANGE answered")
	p, v := c.WaitPrimary(primaryTimeout)
	next, late := (v+1)%3, (v+2)%3 // the next view's primary, and the backup that misses its STARTVIEW
	var mu sync.Mutex
	startViews := map[int]int{} // view → STARTVIEWs sent to late
	c.Drop("first STARTVIEW to the late backup, and the primary's other messages to it until the second", func(m vr.Message) bool {
		if m.To != late || m.View <= v {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		switch m.Type {
		case vr.MsgStartView:
			startViews[m.View]++
			return startViews[m.View] == 1
		case vr.MsgCommit, vr.MsgPrepare, vr.MsgNewState:
			return startViews[m.View] < 2
		}
		return false
	})
	c.Disconnect(p)
	q, w := c.WaitPrimary(2 * primaryTimeout)
	if q != next || w != v+1 {
		c.Fatalf("after cutting off primary R%d of view %d, expected R%d to become primary of view %d; got R%d in view %d", p, v, next, v+1, q, w)
	}
	c.During(time.Second, fmt.Sprintf("R%d to stay primary of view %d (R%d's first STARTVIEW was lost; its resent STARTVIEWCHANGE must be answered with STARTVIEW)", q, w, late), func() (bool, string) {
		return c.StillPrimary(q, w)
	})
}

// Message budgets, stated in LAB-A.md.
const (
	idleRPCsPerBackupPerSecond = 15 // heartbeats: one per 100 ms is 10
	viewChangeRPCs             = 60 // one view change of 3 replicas, the wait for the timeout included
)

// TestMessageBudgetA: an idle group and a view change each send a bounded
// number of RPCs.
func TestMessageBudgetA(t *testing.T) {
	c := harness.New(t, 3, "Test (A): message budget")
	p, _ := c.WaitPrimary(primaryTimeout)

	c.ResetCounters()
	c.Sleep(2 * time.Second)
	idle := c.RPCs()
	if budget := idleRPCsPerBackupPerSecond * (c.N() - 1) * 2; idle > budget {
		c.Fatalf("an idle group of %d sent %d RPCs in 2s; the budget is %d (%d per backup per second)",
			c.N(), idle, budget, idleRPCsPerBackupPerSecond)
	}
	if idle == 0 {
		c.Fatalf("an idle group sent no RPCs in 2s: the primary must send COMMIT heartbeats")
	}

	c.ResetCounters()
	c.Disconnect(p)
	c.WaitPrimary(primaryTimeout)
	if n := c.RPCs(); n > viewChangeRPCs {
		c.Fatalf("the view change after cutting off the primary took %d RPCs; the budget is %d", n, viewChangeRPCs)
	}
}
