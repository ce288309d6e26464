package tests

// Part SC: the shard controller, a configuration service on VR. See
// LAB-SC.md. The helpers are in sc_helpers_test.go.

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"vrlab/shardctrler"
	"vrlab/tests/harness"
	"vrlab/vr"
)

// scCheckpointEvery makes the replicas of some tests checkpoint (Snapshot)
// often, so that recovery goes through Restore.
const scCheckpointEvery = 5

// scRange returns from, from+1, …, to.
func scRange(from, to int) []int {
	var out []int
	for g := from; g <= to; g++ {
		out = append(out, g)
	}
	return out
}

// makePrimary makes replica i the primary, by cutting off the primaries
// before it one at a time, so that the next requests are executed by i's
// own state machine.
func (e *scEnv) makePrimary(i int) {
	e.t.Helper()
	for try := 0; try < 2*e.c.N(); try++ {
		p, _ := e.c.WaitPrimary(primaryTimeout)
		if p == i {
			return
		}
		e.c.Disconnect(p)
		e.c.WaitPrimary(primaryTimeout)
		e.c.Connect(p)
	}
	e.c.Fatalf("could not make R%d the primary", i)
}

// TestJoinLeaveBasicSC: the initial configuration, Join and Leave of one
// group at a time, historical and out-of-range queries, refused ops, and
// configurations the caller may change.
func TestJoinLeaveBasicSC(t *testing.T) {
	e := newSC(t, 3, "Test (SC): basic join and leave")
	ck := e.clerk()

	for _, num := range []int{-1, 0, 5} {
		c0 := ck.query(num)
		if why := scCheckConfig(c0, nil, true); c0.Num != 0 || why != "" || c0.Groups == nil {
			e.c.Fatalf("Query(%d) of a fresh service returned %v; want configuration 0: no groups (an empty map), every shard on gid 0 %s",
				num, scShow(c0), why)
		}
	}

	want := func(num int, shards [shardctrler.NShards]int, gids ...int) {
		t.Helper()
		c := ck.query(-1)
		if c.Num != num || c.Shards != shards || scCheckConfig(c, gids, true) != "" {
			e.c.Fatalf("Query(-1) returned %v; want configuration %d with groups %v and shards %v", scShow(c), num, gids, shards)
		}
	}
	ck.join(1)
	want(1, [shardctrler.NShards]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1)
	ck.join(2)
	c2 := ck.query(-1)
	if why := scCheckStep(ck.query(1), c2); why != "" || c2.Num != 2 {
		e.c.Fatalf("second Join: %s (configuration %v)", why, scShow(c2))
	}
	ck.leave(1)
	want(3, [shardctrler.NShards]int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, 2)
	ck.leave(2)
	want(4, [shardctrler.NShards]int{}, []int{}...)

	// Past the latest: the latest.
	for _, num := range []int{4, 5, 1000} {
		if c := ck.query(num); c.Num != 4 {
			e.c.Fatalf("Query(%d) returned configuration %d; want the latest, 4", num, c.Num)
		}
	}

	// Refused ops make no configuration.
	ck.join(3)
	for what, err := range map[string]error{
		"Join of gid 3, already a group": ck.tryJoin(3),
		"Leave of gid 1, gone":           ck.tryLeave(1),
		"Move to gid 2, gone":            ck.tryMove(0, 2),
	} {
		if !errors.Is(err, shardctrler.ErrRejected) {
			e.c.Fatalf("%s: the call returned %v; want an error wrapping shardctrler.ErrRejected", what, err)
		}
	}
	if c := ck.query(-1); c.Num != 5 {
		e.c.Fatalf("after three refused ops the latest configuration is %d; want 5 (refused ops make none)", c.Num)
	}

	// A returned configuration is the caller's own.
	c5 := ck.query(5)
	c5.Groups[3][0] = "changed"
	c5.Groups[99] = []string{"x"}
	c5.Shards[0] = 99
	if again := ck.query(5); scCheckConfig(again, []int{3}, true) != "" || again.Shards[0] != 3 {
		e.c.Fatalf("changing a Config that Query returned changed what the service returns: Query(5) now %v", scShow(again))
	}

	// Another clerk sees the same history.
	configs := ck.checkHistory()
	e.clerk().checkSame(configs, "a second clerk")
}

// TestHistoricalQueriesSC: every configuration stays exactly what it was
// while each replica in turn crashes, misses changes, restarts empty and
// recovers (through a checkpoint), and then itself answers as primary.
func TestHistoricalQueriesSC(t *testing.T) {
	e := newSC(t, 3, "Test (SC): historical queries while each replica in turn is down",
		harness.WithOptions(vr.Options{CheckpointEvery: scCheckpointEvery}))
	ck := e.clerk()
	ck.join(1)
	ck.join(2, 3)
	ck.join(4)
	ck.leave(2)
	ck.join(5, 6, 7)
	gids := []int{1, 3, 4, 5, 6, 7}
	ck.expectLatest(5, gids)
	gid := 8
	for i := 0; i < 3; i++ {
		want := ck.checkHistory()
		e.c.Crash(i)
		ck.checkSame(want, fmt.Sprintf("with R%d crashed", i))
		ck.join(gid) // changes the crashed replica misses
		ck.leave(gids[0])
		gids = append(gids[1:], gid)
		gid++
		ck.expectLatest(len(want)+1, gids)
		want = ck.checkHistory()
		e.c.Restart(i)
		e.c.WaitRecovered(i, recoverTimeout)
		e.makePrimary(i)
		e.clerk().checkSame(want, fmt.Sprintf("R%d restarted and recovered, now primary", i))
		if st, _ := e.c.State(i); st.CheckpointOpNumber == 0 {
			e.c.Fatalf("R%d recovered without a checkpoint (CheckpointEvery %d); the test expected one", i, scCheckpointEvery)
		}
	}
	ck.join(gid)
	ck.expectLatest(12, append(gids, gid))
	ck.checkHistory()
}

// TestMoveSC: Move puts one shard on one group and changes nothing else;
// a later Join or Leave rebalances from there, moving as few shards as
// possible.
func TestMoveSC(t *testing.T) {
	e := newSC(t, 3, "Test (SC): move")
	ck := e.clerk()
	ck.join(1, 2)
	before := ck.query(-1)
	shards := before.Shards
	for shard := 0; shard < shardctrler.NShards; shard++ {
		gid := 1
		if shard < shardctrler.NShards/2+2 {
			gid = 2
		}
		ck.move(shard, gid)
		shards[shard] = gid
		c := ck.query(-1)
		if c.Num != before.Num+1+shard || c.Shards != shards || scCheckConfig(c, []int{1, 2}, false) != "" {
			e.c.Fatalf("after Move(%d, %d): Query(-1) returned %v; want configuration %d with shards %v and groups [1 2]",
				shard, gid, scShow(c), before.Num+1+shard, shards)
		}
	}
	if again := ck.query(before.Num); !reflect.DeepEqual(again, before) {
		e.c.Fatalf("Moves changed an older configuration: Query(%d) returned %v, before %v", before.Num, scShow(again), scShow(before))
	}

	// From the unbalanced 7/3: a third group, then a second Leave.
	prev := ck.query(-1)
	ck.join(3)
	next := ck.query(-1)
	if why := scCheckStep(prev, next); why != "" {
		e.c.Fatalf("Join after Moves: %s", why)
	}
	ck.move(0, 3)
	ck.move(1, 3)
	ck.move(2, 3)
	prev = ck.query(-1)
	ck.leave(2)
	if why := scCheckStep(prev, ck.query(-1)); why != "" {
		e.c.Fatalf("Leave after Moves: %s", why)
	}
}

// TestConcurrentJoinLeaveSC: many clerks join and leave at once. Every op
// executes exactly once, every step of the history is a balanced, minimal
// rebalance, and every clerk agrees on the result.
func TestConcurrentJoinLeaveSC(t *testing.T) {
	e := newSC(t, 3, "Test (SC): concurrent join and leave")
	const clerks = 10
	cks := make([]*scClerk, clerks)
	for i := range cks {
		cks[i] = e.clerk()
	}
	errs := make([]error, clerks)
	done := make(chan int)
	for i, ck := range cks {
		go func() {
			a, b := 100+i, 200+i
			errs[i] = errors.Join(ck.tryJoin(a), ck.tryJoin(b), ck.tryLeave(a))
			done <- i
		}()
	}
	for range cks {
		<-done
	}
	if err := scFirstErr(errs); err != nil {
		e.c.Fatalf("%v", err)
	}
	configs := cks[0].checkHistory()
	if last := configs[len(configs)-1]; last.Num != 3*clerks || scCheckConfig(last, scRange(200, 200+clerks-1), true) != "" {
		e.c.Fatalf("after %d Joins and Leaves the latest configuration is %v; want configuration %d with groups 200..%d",
			3*clerks, scShow(last), 3*clerks, 200+clerks-1)
	}
	for _, ck := range cks[1:] {
		if got := ck.query(-1); !reflect.DeepEqual(got, configs[len(configs)-1]) {
			e.c.Fatalf("%s sees the latest configuration as %v; another clerk saw %v", ck.name, scShow(got), scShow(configs[len(configs)-1]))
		}
	}
}

// TestMinimalTransferJoinSC: each Join, of one group or several, moves
// exactly the fewest shards that give a balanced assignment, also past
// NShards groups (where new groups get no shard and nothing moves).
func TestMinimalTransferJoinSC(t *testing.T) {
	e := newSC(t, 3, "Test (SC): minimal transfer on join")
	ck := e.clerk()
	steps := [][]int{{9}, {8}, {7}, {6}, {5, 4}, {3}, {12, 11, 10}, {2}, {13, 1}}
	prev := ck.query(-1)
	for _, gids := range steps {
		ck.join(gids...)
		next := ck.query(-1)
		if why := scCheckStep(prev, next); why != "" {
			e.c.Fatalf("%s", why)
		}
		prev = next
	}
	ck.checkHistory()
}

// TestMinimalTransferLeaveSC: each Leave, of one group or several, moves
// only the departed groups' shards and whatever balance still needs: the
// fewest possible. Moves first set up an assignment where the groups that
// hold a shard are the higher gids.
func TestMinimalTransferLeaveSC(t *testing.T) {
	e := newSC(t, 3, "Test (SC): minimal transfer on leave")
	ck := e.clerk()
	ck.join(scRange(1, 13)...)
	for shard := 0; shard < shardctrler.NShards; shard++ {
		ck.move(shard, 13-shard) // gids 13..4 hold one shard each
	}
	steps := [][]int{{13}, {1}, {5, 7}, {2}, {12, 11, 10}, {3}, {4, 6}, {8}, {9}}
	prev := ck.query(-1)
	for _, gids := range steps {
		ck.leave(gids...)
		next := ck.query(-1)
		if why := scCheckStep(prev, next); why != "" {
			e.c.Fatalf("%s", why)
		}
		prev = next
	}
	if why := scCheckConfig(prev, nil, true); why != "" {
		e.c.Fatalf("after every group left: %s", why)
	}
	ck.checkHistory()
}

// TestMultiJoinLeaveSC: clerks join and leave several groups per call, at
// the same time.
func TestMultiJoinLeaveSC(t *testing.T) {
	e := newSC(t, 3, "Test (SC): multi-group join and leave")
	const clerks = 5
	cks := make([]*scClerk, clerks)
	for i := range cks {
		cks[i] = e.clerk()
	}
	errs := make([]error, clerks)
	done := make(chan int)
	for i, ck := range cks {
		go func() {
			base := 10 * (i + 1)
			errs[i] = errors.Join(
				ck.tryJoin(base+1, base+2, base+3),
				ck.tryJoin(base+4, base+5),
				ck.tryLeave(base+1, base+4),
				ck.tryLeave(base+2),
			)
			done <- i
		}()
	}
	for range cks {
		<-done
	}
	if err := scFirstErr(errs); err != nil {
		e.c.Fatalf("%v", err)
	}
	var left []int
	for i := range clerks {
		base := 10 * (i + 1)
		left = append(left, base+3, base+5)
	}
	slices.Sort(left)
	configs := cks[0].checkHistory()
	if last := configs[len(configs)-1]; last.Num != 4*clerks || scCheckConfig(last, left, true) != "" {
		e.c.Fatalf("the latest configuration is %v; want configuration %d with groups %v", scShow(last), 4*clerks, left)
	}
}

// TestAgreeAfterPrimaryCrashSC: the primary crashes right after a burst of
// changes; under the new primary every clerk, old or new, sees the same
// latest configuration, the one the clerks last saw, and changes go on.
func TestAgreeAfterPrimaryCrashSC(t *testing.T) {
	e := newSC(t, 3, "Test (SC): agreement on the latest configuration after the primary crashes")
	cks := []*scClerk{e.clerk(), e.clerk(), e.clerk()}
	var gids []int
	for round := 0; round < 2; round++ {
		errs := make([]error, len(cks))
		done := make(chan int)
		for i, ck := range cks {
			go func() {
				g := 100*(round+1) + 10*i
				errs[i] = errors.Join(ck.tryJoin(g+1, g+2), ck.tryLeave(g+1), ck.tryJoin(g+3))
				done <- i
			}()
		}
		for range cks {
			<-done
		}
		if err := scFirstErr(errs); err != nil {
			e.c.Fatalf("%v", err)
		}
		for i := range cks {
			g := 100*(round+1) + 10*i
			gids = append(gids, g+2, g+3)
		}
		slices.Sort(gids)
		latest := cks[0].expectLatest(9*(round+1), gids)
		want := cks[0].checkHistory()

		p, _ := e.c.WaitPrimary(primaryTimeout)
		e.c.Crash(p)
		for _, ck := range append(cks, e.clerk()) {
			if got := ck.query(-1); !reflect.DeepEqual(got, latest) {
				e.c.Fatalf("after primary R%d crashed, %s sees the latest configuration as %v; before the crash it was %v",
					p, ck.name, scShow(got), scShow(latest))
			}
		}
		e.clerk().checkSame(want, fmt.Sprintf("after primary R%d crashed", p))
		e.c.Restart(p)
		e.c.WaitRecovered(p, recoverTimeout)
	}
	cks[0].join(999)
	cks[0].expectLatest(19, append(gids, 999))
	cks[0].checkHistory()
}

// TestUnreliableSC: concurrent joins, leaves and moves on a network that
// drops, delays and reorders, with a crash and recovery in the middle;
// every op executes exactly once, the history stays exact and every
// rebalance is minimal.
func TestUnreliableSC(t *testing.T) {
	e := newSC(t, 3, "Test (SC): unreliable network", harness.Unreliable(),
		harness.WithOptions(vr.Options{CheckpointEvery: scCheckpointEvery}))
	e.op = 3 * scOpTimeout
	const clerks = 5
	cks := make([]*scClerk, clerks)
	for i := range cks {
		cks[i] = e.clerk()
	}
	run := func(round int) {
		t.Helper()
		errs := make([]error, clerks)
		done := make(chan int)
		for i, ck := range cks {
			go func() {
				g := 100*(round+1) + 10*i
				errs[i] = errors.Join(ck.tryJoin(g+1), ck.tryJoin(g+2, g+3), ck.tryLeave(g+1, g+2))
				done <- i
			}()
		}
		for range cks {
			<-done
		}
		if err := scFirstErr(errs); err != nil {
			e.c.Fatalf("%v", err)
		}
	}
	run(0)
	want := cks[0].checkHistory()
	e.c.Crash(1)
	run(1)
	e.c.Restart(1)
	e.c.WaitRecovered(1, 3*recoverTimeout)
	cks[1].checkSame(want, "after R1 crashed and recovered")
	configs := cks[0].checkHistory()
	var gids []int
	for round := range 2 {
		for i := range clerks {
			gids = append(gids, 100*(round+1)+10*i+3)
		}
	}
	slices.Sort(gids)
	if last := configs[len(configs)-1]; last.Num != 6*clerks || scCheckConfig(last, gids, true) != "" {
		e.c.Fatalf("the latest configuration is %v; want configuration %d with groups %v", scShow(last), 6*clerks, gids)
	}

	// A Move, then a Join from the unbalanced state.
	cks[2].move(0, gids[len(gids)-1])
	cks[2].move(1, gids[len(gids)-1])
	prev := cks[3].query(-1)
	cks[4].join(77)
	if why := scCheckStep(prev, cks[0].query(-1)); why != "" {
		e.c.Fatalf("Join after Moves: %s", why)
	}
}
