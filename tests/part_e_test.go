package tests

// Part E: reconfiguration with epochs. See LAB-E.md.
//
// Every test runs with the harness's checkers on: agreement and
// exactly-once across epochs (the Recorder), at most one primary per view of
// an epoch, and no primary of view v > 0 without f other members of its
// epoch in view v (the watcher).

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
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
// for epoch `epoch`; it returns the new primary.
func reconfigure(c *harness.Cluster, epoch int, members ...int) int {
	if err := <-startReconfigure(c, members...); err != nil {
		c.Fatalf("Reconfigure(%v): %v", members, err)
	}
	return c.WaitEpoch(epoch, members, epochTimeout)
}

// startReconfigure asks for members in the background, as a fresh
// administrator; the channel yields what Reconfigure returned.
func startReconfigure(c *harness.Cluster, members ...int) <-chan error {
	admin := c.NewClient()
	done := make(chan error, 1)
	go func() { done <- admin.Reconfigure(members, epochTimeout) }()
	return done
}

// requireFirstPrimary waits for the first primary and fails the test unless
// it is replica p, which the test's schedule needs.
func requireFirstPrimary(c *harness.Cluster, p int) {
	if got, _ := c.WaitPrimary(primaryTimeout); got != p {
		c.Fatalf("R%d is the first primary; the test needs R%d", got, p)
	}
}

// waitHolds waits until every listed replica's log reaches op n.
func waitHolds(c *harness.Cluster, n int, replicas ...int) {
	c.Eventually(5*time.Second, fmt.Sprintf("R%v to hold op %d", replicas, n), func() (bool, string) {
		for _, i := range replicas {
			if st, _ := c.State(i); st.OpNumber < n {
				return false, fmt.Sprintf("R%d: %s", i, harness.StateLabel(st))
			}
		}
		return true, ""
	})
}

// opNumberStays checks for d that replica i's op-number stays n: it takes no
// op. why says what the test expects.
func opNumberStays(c *harness.Cluster, i, n int, d time.Duration, why string) {
	c.During(d, why, func() (bool, string) {
		st, _ := c.State(i)
		return st.OpNumber == n, fmt.Sprintf("R%d: %s", i, harness.StateLabel(st))
	})
}

// between drops every message between the replicas of a and those of b,
// except the types listed, under the rule name.
func between(c *harness.Cluster, name string, a, b []int, except ...vr.MsgType) {
	in := func(xs []int, x int) bool {
		for _, y := range xs {
			if y == x {
				return true
			}
		}
		return false
	}
	c.Drop(name, func(m vr.Message) bool {
		for _, t := range except {
			if m.Type == t {
				return false
			}
		}
		return in(a, m.From) && in(b, m.To) || in(b, m.From) && in(a, m.To)
	})
}

// TestGrowE: 3 → 5 under load. The two standbys join; then the new group
// survives the crash of two of the original three, which f'=2 allows.
func TestGrowE(t *testing.T) {
	c := harness.New(t, 5, "Test (E): grow 3 → 5 under load", startingWith(0, 1, 2))
	c.WaitPrimary(primaryTimeout)
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

// TestShrinkE: 5 → 3. The two leaving replicas end Retired and stopped;
// the three left go on.
func TestShrinkE(t *testing.T) {
	c := harness.New(t, 5, "Test (E): shrink 5 → 3")
	c.WaitPrimary(primaryTimeout)
	cl := c.NewClient()
	submitN(cl, 10, 0)
	reconfigure(c, 1, 2, 3, 4)
	submitN(cl, 10, 0)
	for _, i := range []int{0, 1} {
		if st, _ := c.State(i); !st.Retired {
			c.Fatalf("R%d left the configuration but is not Retired: %s", i, harness.StateLabel(st))
		}
	}
	c.Crash(0) // the operator shuts the removed replicas down
	c.Crash(1)
	submitN(cl, 10, 0)
}

// TestLeavingServesStateE: replace all three replicas, {0,1,2} → {3,4,5},
// while R4 and R5 can reach nobody. R3 alone fetches the state and confirms
// it (one EPOCHSTARTED; f'+1 = 2 are needed), then crashes. The old group
// must still be serving: R4 and R5 get the state from it when they come
// back, and the new group goes on without R3.
func TestLeavingServesStateE(t *testing.T) {
	c := harness.New(t, 6, "Test (E): leaving replicas serve until f'+1 confirm", startingWith(0, 1, 2))
	c.WaitPrimary(primaryTimeout)
	cl := c.NewClient()
	submitN(cl, 5, 0)
	c.Drop("R4 and R5 cut off", func(m vr.Message) bool { return m.To >= 4 || m.From >= 4 })
	done := startReconfigure(c, 3, 4, 5)
	c.Eventually(epochTimeout, "R3 to hold the state of epoch 1", func() (bool, string) {
		st, _ := c.State(3)
		return st.Epoch == 1 && st.Status == vr.Normal, "R3: " + harness.StateLabel(st)
	})
	// The old replicas that executed the RECONFIGURATION hold the state (the
	// others learned of the epoch without it, and stopped).
	var serving []int
	for i := 0; i < 3; i++ {
		if st, _ := c.State(i); st.Status == vr.Transitioning {
			serving = append(serving, i)
		}
	}
	if len(serving) == 0 {
		c.Fatalf("no replica of the old group serves the state of epoch 1 although only R3 confirmed it (f'+1 = 2 needed)")
	}
	c.During(time.Second, fmt.Sprintf("the old replicas %v to keep serving the state while only R3 has confirmed it (f'+1 = 2 needed)", serving), func() (bool, string) {
		for _, i := range serving {
			if st, _ := c.State(i); st.Status != vr.Transitioning {
				return false, fmt.Sprintf("R%d: %s", i, harness.StateLabel(st))
			}
		}
		return true, ""
	})
	c.Crash(3)
	c.Undrop("R4 and R5 cut off")
	c.Eventually(epochTimeout, "R4 and R5 to fetch the state from the old group and go on without R3", func() (bool, string) {
		for i := 4; i < 6; i++ {
			if st, _ := c.State(i); st.Epoch != 1 || st.Status != vr.Normal || st.View == 0 {
				return false, fmt.Sprintf("R%d: %s (the old group: %s)", i, harness.StateLabel(st), c.Epochs())
			}
		}
		return true, ""
	})
	if err := <-done; err != nil {
		c.Fatalf("Reconfigure: %v", err)
	}
	submitN(cl, 5, 0)
	c.Restart(3)
	c.WaitEpoch(1, []int{3, 4, 5}, epochTimeout)
	submitN(cl, 5, 0)
}

// TestReplacePrimaryE: {0,1,2} → {1,2,3} under load, the primary R0 leaving.
func TestReplacePrimaryE(t *testing.T) {
	c := harness.New(t, 4, "Test (E): replace the primary", startingWith(0, 1, 2))
	requireFirstPrimary(c, 0)
	load := c.StartLoad(2, opTimeout)
	load.WaitProgress(20, 5*time.Second)
	if p := reconfigure(c, 1, 1, 2, 3); p == 0 {
		c.Fatalf("R0 left but is primary")
	}
	load.WaitProgress(load.Progress()+20, 5*time.Second)
	c.Crash(0)
	load.WaitProgress(load.Progress()+20, 5*time.Second)
	load.Stop()
	c.WaitConverged(5 * time.Second)
}

// TestReplaceAllE: {0,1,2} → {3,4,5} under load, with R4 and R5 slow to get
// the state (their NEWSTATEs are lost for a second). When Reconfigure
// returns, the operator shuts the old three down at once, and then the new
// primary crashes too — one crash, which f' = 1 allows. Reconfigure may
// return only once f'+1 new members hold the state: the other two must go
// on.
func TestReplaceAllE(t *testing.T) {
	c := harness.New(t, 6, "Test (E): replace all three replicas", startingWith(0, 1, 2))
	c.WaitPrimary(primaryTimeout)
	load := c.StartLoad(3, opTimeout)
	load.WaitProgress(20, 5*time.Second)
	c.Drop("NEWSTATE to R4 and R5, for a second", func(m vr.Message) bool { return m.Type == vr.MsgNewState && m.To >= 4 })
	slow := time.AfterFunc(time.Second, func() { c.Undrop("NEWSTATE to R4 and R5, for a second") })
	defer slow.Stop()
	if err := <-startReconfigure(c, 3, 4, 5); err != nil {
		c.Fatalf("Reconfigure: %v", err)
	}
	for i := 0; i < 3; i++ {
		c.Crash(i)
	}
	c.Crash(3) // epoch 1's first primary
	load.WaitProgress(load.Progress()+30, 10*time.Second)
	load.Stop()
	c.WaitConverged(5 * time.Second)
}

// TestChangeFE: f = 1 → 2 → 1. With five members the group survives two
// crashes; back at three, with other members, it survives one.
func TestChangeFE(t *testing.T) {
	c := harness.New(t, 5, "Test (E): change f both ways", startingWith(0, 1, 2))
	c.WaitPrimary(primaryTimeout)
	cl := c.NewClient()
	submitN(cl, 5, 0)
	reconfigure(c, 1, 0, 1, 2, 3, 4)
	c.Crash(0)
	c.Crash(3)
	submitN(cl, 5, 0) // three of five: f'=2
	c.Restart(0)
	c.Restart(3)
	c.WaitRecovered(0, recoverTimeout)
	c.WaitRecovered(3, recoverTimeout)
	reconfigure(c, 2, 2, 3, 4)
	c.Crash(2)
	submitN(cl, 5, 0) // two of three: f'=1
}

// TestUnreliableReconfigE: {0,1,2} → {2,3,4} under load, with 20% of the
// replica messages lost and long reordering during the transition.
func TestUnreliableReconfigE(t *testing.T) {
	c := harness.New(t, 5, "Test (E): reconfiguration on an unreliable network", startingWith(0, 1, 2))
	c.WaitPrimary(primaryTimeout)
	load := c.StartLoad(2, opTimeout)
	load.WaitProgress(10, 5*time.Second)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	c.Drop("20% loss", func(vr.Message) bool {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64() < 0.2
	})
	c.Reliable(false)
	c.LongReordering(true)
	if err := <-startReconfigure(c, 2, 3, 4); err != nil {
		c.Fatalf("Reconfigure: %v", err)
	}
	c.Undrop("20% loss")
	c.Reliable(true)
	c.LongReordering(false)
	c.WaitEpoch(1, []int{2, 3, 4}, 2*epochTimeout)
	load.WaitProgress(load.Progress()+10, 10*time.Second)
	load.Stop()
	c.WaitConverged(10 * time.Second)
}

// TestOldPrimaryCrashPreparedE: the old primary crashes after the
// RECONFIGURATION is prepared but before it commits. The next primary
// inherits the RECONFIGURATION at the top of its log: it must take no client
// request in the old epoch, then commit the RECONFIGURATION and start the
// epoch, whose view-0 primary (R0) is down.
func TestOldPrimaryCrashPreparedE(t *testing.T) {
	c := harness.New(t, 5, "Test (E): the old primary crashes before the commit", startingWith(0, 1, 2))
	requireFirstPrimary(c, 0)
	cl := c.NewClient()
	submitN(cl, 5, 0)
	st, _ := c.State(0)
	reconfigOp := st.OpNumber + 1
	c.Drop("PREPAREOK to R0", func(m vr.Message) bool { return m.Type == vr.MsgPrepareOK && m.To == 0 })
	done := startReconfigure(c, 0, 1, 2, 3, 4)
	waitHolds(c, reconfigOp, 1, 2)
	c.Drop("every PREPAREOK", func(m vr.Message) bool { return m.Type == vr.MsgPrepareOK })
	c.Crash(0)
	var pending []*harness.Pending
	for i := 0; i < 3; i++ {
		l := c.NewClient()
		pending = append(pending, l.Start(l.NextOp(0), 3*opTimeout))
	}
	next := -1
	c.Eventually(epochTimeout, "R1 or R2 to become primary of a later view of epoch 0", func() (bool, string) {
		for _, i := range []int{1, 2} {
			if st, _ := c.State(i); st.IsPrimary && st.Epoch == 0 {
				next = i
				return true, ""
			}
		}
		return false, c.Epochs()
	})
	opNumberStays(c, next, reconfigOp, time.Second, fmt.Sprintf(
		"R%d, the new primary, whose log ends with the RECONFIGURATION at op %d, to take no client request in epoch 0 (clients are retrying)", next, reconfigOp))
	c.Undrop("every PREPAREOK")
	c.Undrop("PREPAREOK to R0")
	c.WaitEpoch(1, []int{0, 1, 2, 3, 4}, epochTimeout)
	if err := <-done; err != nil {
		c.Fatalf("Reconfigure: %v", err)
	}
	for _, p := range pending {
		if _, err := p.Wait(); err != nil {
			c.Fatalf("%v", err)
		}
	}
	c.Restart(0)
	c.WaitRecovered(0, recoverTimeout)
	submitN(cl, 3, 0)
}

// TestOldPrimaryCrashCommittedE: 3 → 5, and the old primary R0 crashes
// right after it has committed the RECONFIGURATION, with every STARTEPOCH
// lost and R0 giving no state to anyone. R0 committed the op as it entered
// epoch 1, so it never told R1 and R2 the commit in epoch 0: they learn of
// epoch 1 only from its NEWEPOCHs, and must see that their own logs hold
// its start. R0 was the epoch's view-0 primary, so the new group must change
// view, and three votes of five need R3 or R4. They hear nothing until R1
// and R2 are in that view change; then they learn of the epoch only by
// asking, and must get the state from R1 or R2 in the middle of it.
func TestOldPrimaryCrashCommittedE(t *testing.T) {
	c := harness.New(t, 5, "Test (E): the old primary crashes after the commit", startingWith(0, 1, 2))
	requireFirstPrimary(c, 0)
	cl := c.NewClient()
	submitN(cl, 5, 0)
	c.Drop("every STARTEPOCH, every NEWSTATE from R0", func(m vr.Message) bool {
		return m.Type == vr.MsgStartEpoch || m.Type == vr.MsgNewState && m.From == 0
	})
	// R3 and R4 hear nothing until the view change in epoch 1 has begun.
	c.Drop("nothing reaches R3 and R4", func(m vr.Message) bool { return m.To == 3 || m.To == 4 })
	done := startReconfigure(c, 0, 1, 2, 3, 4)
	c.Eventually(epochTimeout, "R0, R1 and R2 to enter epoch 1", func() (bool, string) {
		for i := 0; i < 3; i++ {
			if st, _ := c.State(i); st.Epoch != 1 {
				return false, fmt.Sprintf("R%d: %s", i, harness.StateLabel(st))
			}
		}
		return true, ""
	})
	c.Crash(0)
	c.Eventually(epochTimeout, "R1 and R2 to start a view change in epoch 1 (its view-0 primary R0 is down)", func() (bool, string) {
		for i := 1; i < 3; i++ {
			if st, _ := c.State(i); st.Epoch != 1 || st.Status != vr.ViewChange {
				return false, fmt.Sprintf("R%d: %s", i, harness.StateLabel(st))
			}
		}
		return true, ""
	})
	c.Undrop("nothing reaches R3 and R4")
	c.Eventually(2*epochTimeout, "R1..R4 to be normal in a view above 0 of epoch 1", func() (bool, string) {
		var behind []string
		for i := 1; i < 5; i++ {
			if st, _ := c.State(i); st.Epoch != 1 || st.Status != vr.Normal || st.View == 0 {
				behind = append(behind, fmt.Sprintf("R%d: %s", i, harness.StateLabel(st)))
			}
		}
		return len(behind) == 0, strings.Join(behind, "; ")
	})
	if err := <-done; err != nil {
		c.Fatalf("Reconfigure: %v", err)
	}
	submitN(cl, 5, 0)
	c.Restart(0)
	c.WaitRecovered(0, recoverTimeout)
	submitN(cl, 3, 0)
}

// TestPartitionedNewReplicasE: {0,1,2} → {3,4,5} while only STARTEPOCH
// crosses between the groups. The new members know the epoch but cannot get
// its state: they must take part in nothing (no view change among
// themselves), and no op may execute anywhere after the RECONFIGURATION.
// When the partition heals, the move completes.
func TestPartitionedNewReplicasE(t *testing.T) {
	c := harness.New(t, 6, "Test (E): new replicas partitioned from the old group", startingWith(0, 1, 2))
	c.WaitPrimary(primaryTimeout)
	load := c.StartLoad(2, opTimeout)
	load.WaitProgress(10, 5*time.Second)
	between(c, "old ↔ new except STARTEPOCH", []int{0, 1, 2}, []int{3, 4, 5}, vr.MsgStartEpoch)
	done := startReconfigure(c, 3, 4, 5)
	var reconfigOp int
	c.Eventually(epochTimeout, "the new members to learn of epoch 1", func() (bool, string) {
		for i := 3; i < 6; i++ {
			st, _ := c.State(i)
			if st.Epoch != 1 {
				return false, fmt.Sprintf("R%d: %s", i, harness.StateLabel(st))
			}
			reconfigOp = st.EpochStart
		}
		return true, ""
	})
	c.During(2*time.Second, fmt.Sprintf("no replica to execute an op after the RECONFIGURATION (op %d), and the new members, without its state, to stay out of view changes", reconfigOp), func() (bool, string) {
		for i := 0; i < 6; i++ {
			st, _ := c.State(i)
			if st.Executed > reconfigOp || (i >= 3 && (st.Status != vr.Transitioning || st.View != 0)) {
				return false, fmt.Sprintf("R%d: %s", i, harness.StateLabel(st))
			}
		}
		return true, ""
	})
	c.Undrop("old ↔ new except STARTEPOCH")
	c.WaitEpoch(1, []int{3, 4, 5}, epochTimeout)
	if err := <-done; err != nil {
		c.Fatalf("Reconfigure: %v", err)
	}
	load.WaitProgress(load.Progress()+10, 10*time.Second)
	load.Stop()
	c.WaitConverged(5 * time.Second)
}

// TestStaleClientE: a client that knows only epoch 0 finds the new group,
// and a request it made in epoch 0 is not executed again when it retries in
// epoch 1 (the client-table moves with the state).
func TestStaleClientE(t *testing.T) {
	c := harness.New(t, 6, "Test (E): a client with a stale configuration", startingWith(0, 1, 2))
	p, _ := c.WaitPrimary(primaryTimeout)
	cl := c.NewClient()
	submitN(cl, 3, 0)
	raw := c.NewClient()
	op := raw.NextOp(0)
	first, ok := raw.Raw(p, raw.ID(), 1, op)
	if !ok || !first.OK {
		c.Fatalf("R%d did not answer a request in epoch 0: %+v", p, first)
	}
	np := reconfigure(c, 1, 3, 4, 5)
	for i := 0; i < 3; i++ {
		c.Crash(i) // the old replicas are gone: only the new ones can answer
	}
	again, ok := raw.Raw(np, raw.ID(), 1, op)
	if !ok || !again.OK || string(again.Result) != string(first.Result) {
		c.Fatalf("a retry in epoch 1 of request 1 (executed in epoch 0 as op %s) got %+v from R%d, the new primary; "+
			"it must get the recorded reply: the client-table moves to the new epoch with the state", first.Result, again, np)
	}
	submitN(cl, 3, 0) // cl still believes in epoch 0 and R0
	if members, epoch := cl.Members(); epoch != 1 {
		c.Fatalf("the client completed ops in epoch 1 but believes in epoch %d %v", epoch, members)
	}
}

// TestRemovedReplicaQuietE: R2 is cut off, the group moves on without it
// ({0,1,2} → {0,1,3}), and R2 times out again and again in epoch 0. When it
// is reconnected, its STARTVIEWCHANGEs reach the new group, which must drop
// them (they are of an older epoch) — even while R2 never hears the answer
// (its NEWEPOCHs are lost). When they get through, R2 learns it is out.
func TestRemovedReplicaQuietE(t *testing.T) {
	c := harness.New(t, 4, "Test (E): a removed replica does not disturb the new group", startingWith(0, 1, 2))
	c.WaitPrimary(primaryTimeout)
	c.Disconnect(2)
	reconfigure(c, 1, 0, 1, 3)
	c.Drop("NEWEPOCH to R2", func(m vr.Message) bool { return m.Type == vr.MsgNewEpoch && m.To == 2 })
	c.Eventually(5*time.Second, "R2, cut off, to start view changes in epoch 0", func() (bool, string) {
		st, _ := c.State(2)
		return st.View >= 2, harness.StateLabel(st)
	})
	c.Connect(2)
	st, _ := c.State(0)
	view := st.View
	c.During(2*time.Second, fmt.Sprintf("the new group {0,1,3} to stay in view %d of epoch 1 while R2 sends epoch-0 STARTVIEWCHANGEs", view), func() (bool, string) {
		for _, i := range []int{0, 1, 3} {
			if st, _ := c.State(i); st.Epoch != 1 || st.View != view || st.Status != vr.Normal {
				return false, fmt.Sprintf("R%d: %s", i, harness.StateLabel(st))
			}
		}
		return true, ""
	})
	c.Undrop("NEWEPOCH to R2")
	c.WaitEpoch(1, []int{0, 1, 3}, epochTimeout)
	if st, _ := c.State(2); !st.Retired {
		c.Fatalf("R2 learned it was removed but is not Retired: %s", harness.StateLabel(st))
	}
}

// TestSecondReconfigRefusedE: while a RECONFIGURATION is prepared but cannot
// commit, a second one is refused at once, and client requests are not
// taken (the epoch is ending). Then the first completes.
func TestSecondReconfigRefusedE(t *testing.T) {
	c := harness.New(t, 5, "Test (E): one reconfiguration at a time", startingWith(0, 1, 2))
	p, _ := c.WaitPrimary(primaryTimeout)
	cl := c.NewClient()
	submitN(cl, 3, 0)
	st, _ := c.State(p)
	reconfigOp := st.OpNumber + 1
	c.Drop("every PREPAREOK", func(m vr.Message) bool { return m.Type == vr.MsgPrepareOK })
	first := startReconfigure(c, 0, 1, 2, 3)
	waitHolds(c, reconfigOp, p)
	err := <-startReconfigure(c, 0, 1, 2, 4)
	if err == nil || !strings.Contains(err.Error(), "in progress") {
		c.Fatalf("a second Reconfigure while one is prepared returned %v; want an error saying a reconfiguration is in progress", err)
	}
	late := c.NewClient()
	pending := late.Start(late.NextOp(0), 3*opTimeout)
	opNumberStays(c, p, reconfigOp, time.Second, fmt.Sprintf(
		"R%d, primary with a RECONFIGURATION prepared at op %d, to take no client request in the ending epoch", p, reconfigOp))
	c.Undrop("every PREPAREOK")
	if err := <-first; err != nil {
		c.Fatalf("Reconfigure: %v", err)
	}
	c.WaitEpoch(1, []int{0, 1, 2, 3}, epochTimeout)
	if n, err := pending.Wait(); err != nil || n <= 3 {
		c.Fatalf("the request held back during the reconfiguration: op-number %d, %v", n, err)
	}
}

// TestSleeperE: R2 holds an op that never commits (only R0 and R2 got its
// PREPARE), then sleeps (cut off, with R0) while the others replace that op
// and move through two epochs, {0,1,2,3,4} → {1,2,3,4} → {1,2,3,4,5}. When
// R2 wakes its epoch-0 messages tell the group it is behind: it must find
// epoch 2, drop the op it held, and catch up.
func TestSleeperE(t *testing.T) {
	c := harness.New(t, 6, "Test (E): a replica asleep through two epochs", startingWith(0, 1, 2, 3, 4))
	requireFirstPrimary(c, 0)
	cl := c.NewClient()
	submitN(cl, 3, 0)
	st, _ := c.State(0)
	stale := st.OpNumber + 1
	// R0's PREPAREs reach only R2, and nothing acknowledges them. The rule
	// stays: a PREPARE of R0's still in flight must never reach the others.
	// (NEWSTATEs too: a backup that saw a gap asks R0, whose answer would
	// carry the op.)
	c.Drop("R0's PREPAREs and NEWSTATEs only to R2, no PREPAREOK to R0", func(m vr.Message) bool {
		return m.Type == vr.MsgPrepareOK && m.To == 0 || (m.Type == vr.MsgPrepare || m.Type == vr.MsgNewState) && m.From == 0 && m.To != 2
	})
	raw := c.NewClient()
	op := raw.NextOp(0)
	go raw.Raw(0, raw.ID(), 1, op) // sent once: nobody retries it (and its reply never comes)
	waitHolds(c, stale, 2)
	c.Disconnect(0)
	c.Disconnect(2)
	if n := cl.Submit(cl.NextOp(0), opTimeout); n != stale {
		c.Fatalf("test setup failed (not your code): the first op of the new view executed as op %d; the test needs it at op %d, where R2 holds another", n, stale)
	}
	submitN(cl, 2, 0)
	reconfigure(c, 1, 1, 2, 3, 4)
	submitN(cl, 3, 0)
	reconfigure(c, 2, 1, 2, 3, 4, 5)
	submitN(cl, 3, 0)
	c.Connect(2)
	c.WaitEpoch(2, []int{1, 2, 3, 4, 5}, epochTimeout)
	submitN(cl, 3, 0)
	c.WaitConverged(5 * time.Second)
}

// TestNewPrimaryDeadE: {0,1,2} → {3,4,5} with R3, the new epoch's view-0
// primary, down. R4 and R5 must change view inside epoch 1; R3 recovers into
// the epoch when it restarts.
func TestNewPrimaryDeadE(t *testing.T) {
	c := harness.New(t, 6, "Test (E): the new group's first primary is dead", startingWith(0, 1, 2))
	c.WaitPrimary(primaryTimeout)
	cl := c.NewClient()
	submitN(cl, 3, 0)
	c.Crash(3)
	if err := <-startReconfigure(c, 3, 4, 5); err != nil {
		c.Fatalf("Reconfigure: %v", err)
	}
	c.WaitEpoch(1, []int{3, 4, 5}, epochTimeout)
	if st, _ := c.State(4); st.View == 0 {
		c.Fatalf("epoch 1 runs in view 0, whose primary R3 is down")
	}
	submitN(cl, 3, 0)
	c.Restart(3)
	c.WaitRecovered(3, recoverTimeout)
	submitN(cl, 3, 0)
	c.WaitConverged(5 * time.Second)
}

// TestInheritedOpsE: a primary that inherited uncommitted ops in a view
// change takes no RECONFIGURATION until they are committed (Raft's
// single-server bug: a change must not be decided before the log it follows
// is settled). Then it does.
func TestInheritedOpsE(t *testing.T) {
	c := harness.New(t, 4, "Test (E): no reconfiguration before the inherited ops commit", startingWith(0, 1, 2))
	requireFirstPrimary(c, 0)
	cl := c.NewClient()
	submitN(cl, 3, 0)
	st, _ := c.State(0)
	inherited := st.OpNumber + 1
	c.Drop("every PREPAREOK", func(m vr.Message) bool { return m.Type == vr.MsgPrepareOK })
	x := c.NewClient()
	pending := x.Start(x.NextOp(0), 3*opTimeout)
	waitHolds(c, inherited, 1, 2)
	c.Crash(0)
	c.Eventually(epochTimeout, "R1 or R2 to become primary of view 1 or later, with op "+fmt.Sprint(inherited)+" uncommitted", func() (bool, string) {
		for _, i := range []int{1, 2} {
			if st, _ := c.State(i); st.IsPrimary {
				return true, ""
			}
		}
		return false, c.Epochs()
	})
	p, _ := c.WaitPrimary(primaryTimeout)
	done := startReconfigure(c, 1, 2, 3)
	opNumberStays(c, p, inherited, time.Second, fmt.Sprintf(
		"R%d, a new primary whose inherited op %d is not committed, not to prepare a RECONFIGURATION", p, inherited))
	c.Undrop("every PREPAREOK")
	if err := <-done; err != nil {
		c.Fatalf("Reconfigure: %v", err)
	}
	c.WaitEpoch(1, []int{1, 2, 3}, epochTimeout)
	if _, err := pending.Wait(); err != nil {
		c.Fatalf("%v", err)
	}
}

// TestBadReconfigE: configurations that cannot be are refused at once and
// change nothing: empty, a replica twice, a replica outside the peers, and
// the configuration already in force. The same reaches the primary directly
// (a raw RECONFIGURATION past the client's checks) and is refused there.
func TestBadReconfigE(t *testing.T) {
	c := harness.New(t, 4, "Test (E): bad reconfigurations are refused", startingWith(0, 1, 2))
	p, _ := c.WaitPrimary(primaryTimeout)
	cl := c.NewClient()
	submitN(cl, 2, 0)
	before, _ := c.State(p)
	bad := map[string][]int{
		"empty":             {},
		"a replica twice":   {0, 1, 1},
		"outside the peers": {0, 1, 4},
		"negative":          {-1, 0, 1},
		"already in force":  {2, 1, 0},
	}
	admin := c.NewClient()
	for what, members := range bad {
		if err := admin.Reconfigure(members, 2*time.Second); err == nil || strings.Contains(err.Error(), "within") {
			c.Fatalf("Reconfigure(%v) (%s) returned %v; want an error at once", members, what, err)
		}
		var reply vr.RequestReply
		args := &vr.RequestArgs{ClientID: 77, RequestNum: 1, Reconfig: true, Members: members}
		if admin.Ends()[p].Call("VR.Request", args, &reply) && reply.OK && reply.Err == "" {
			c.Fatalf("the primary R%d accepted a raw RECONFIGURATION to %v (%s): %+v", p, members, what, reply)
		}
	}
	after, _ := c.State(p)
	if after.Epoch != 0 || after.OpNumber != before.OpNumber {
		c.Fatalf("refused reconfigurations changed the primary: before %s, after %s", harness.StateLabel(before), harness.StateLabel(after))
	}
	submitN(cl, 2, 0)
}
