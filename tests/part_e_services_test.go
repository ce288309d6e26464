package tests

// Part E: the services through reconfigurations. The key/value service and
// the shard controller run on VR unchanged; their clerks follow the group
// from epoch to epoch (vr.Client learns the configuration from NEWEPOCH and
// NOTPRIMARY), and what they stored must come through every change.

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"vrlab/tests/harness"
	"vrlab/vr"
)

// serviceEpochTimeout bounds a reconfiguration of a service's group on an
// unreliable network: the RECONFIGURATION commits, the new members fetch
// the state (with its checkpoint), the leaving ones stop.
const serviceEpochTimeout = 20 * time.Second

// moveTo moves cluster c to configuration members, as a fresh administrator,
// and waits until epoch e runs with them. It returns the new primary.
func moveTo(c *harness.Cluster, e int, members ...int) int {
	if err := c.NewClient().Reconfigure(members, serviceEpochTimeout); err != nil {
		c.Fatalf("Reconfigure(%v) to epoch %d: %v", members, e, err)
	}
	return c.WaitEpoch(e, members, serviceEpochTimeout)
}

// TestKVReconfigE: a key/value group of three, with two standby servers,
// under concurrent clerks on an unreliable network, grows to five; the
// primary of the grown group crashes and recovers in the new epoch; the
// group shrinks to three (two of the original members leave) while one of
// the remaining members is partitioned away. The clerks never learn of the
// changes but from the replicas. No op may be lost, done twice or read
// stale: the whole history must be linearizable.
func TestKVReconfigE(t *testing.T) {
	k := newKVTest(t, 5, "Test (E): KV group grows and shrinks under faults", harness.Unreliable(),
		harness.WithOptions(vr.Options{Members: []int{0, 1, 2}, CheckpointEvery: 20}))
	k.WaitPrimary(primaryTimeout)
	for _, i := range []int{3, 4} {
		if st, _ := k.State(i); st.Status != vr.Standby {
			k.Fatalf("R%d is outside the first configuration [0 1 2] but is %s; expected a standby", i, harness.StateLabel(st))
		}
	}
	load := k.startLoad(loadSpec{clients: 5, keys: 3, opTimeout: 6 * opTimeout, pause: 20 * time.Millisecond})
	load.waitProgress(20, 3*opTimeout)

	// Grow: the standbys join, fetching the key/value state.
	p := moveTo(k.Cluster, 1, 0, 1, 2, 3, 4)
	load.waitProgress(20, 3*opTimeout)

	// The primary of the grown group crashes, loses everything, and
	// recovers from the others, in epoch 1.
	k.Crash(p)
	load.waitProgress(20, 3*opTimeout)
	k.Restart(p)
	k.WaitRecovered(p, 3*recoverTimeout)
	if st, _ := k.State(p); st.Epoch != 1 {
		k.Fatalf("R%d recovered into %s; expected epoch 1", p, harness.StateLabel(st))
	}
	load.waitProgress(20, 3*opTimeout)

	// Shrink to [2 3 4] while 4 is partitioned from everyone: 0 and 1
	// leave once 2 and 3 (f'+1 of the new group) hold the state, and 4
	// catches up when the partition heals.
	k.Partition([]int{0, 1, 2, 3}, []int{4})
	if err := k.NewClient().Reconfigure([]int{2, 3, 4}, serviceEpochTimeout); err != nil {
		k.Fatalf("Reconfigure([2 3 4]) with R4 partitioned away: %v", err)
	}
	load.waitProgress(20, 3*opTimeout)
	k.Heal()
	k.WaitEpoch(2, []int{2, 3, 4}, serviceEpochTimeout)
	load.waitProgress(20, 3*opTimeout)

	load.finish()
	k.Reliable(true)
	k.finalReads(3)
	k.waitKVConverged(10 * time.Second)
	k.checkLinearizable()
}

// TestSCReconfigE: a shard controller of three, with three standbys, moves
// to the three standbys (replace-all) while clerks keep changing the
// configurations, and the original three are shut down as soon as
// Reconfigure returns. Every configuration made before the move is still
// there afterwards, to clerks old and new, the history of configurations
// stays exact (every op once, every rebalance minimal), and changes go on.
func TestSCReconfigE(t *testing.T) {
	e := newSC(t, 6, "Test (E): shard controller keeps its configs through replace-all",
		harness.WithOptions(vr.Options{Members: []int{0, 1, 2}, CheckpointEvery: scCheckpointEvery}))
	cks := []*scClerk{e.clerk(), e.clerk(), e.clerk()}
	cks[0].join(1, 2)
	cks[1].join(3)
	cks[2].move(0, 3)
	cks[0].leave(1)
	before := cks[0].checkHistory()

	// Replace all three while the clerks join and leave groups.
	errs := make([]error, len(cks))
	done := make(chan int)
	for i, ck := range cks {
		go func() {
			g := 100 + 10*i
			errs[i] = errors.Join(ck.tryJoin(g+1), ck.tryJoin(g+2), ck.tryLeave(g+1))
			done <- i
		}()
	}
	if err := e.c.NewClient().Reconfigure([]int{3, 4, 5}, serviceEpochTimeout); err != nil {
		e.c.Fatalf("Reconfigure([3 4 5]): %v", err)
	}
	// The new group's primary is normal: the old one may be shut down.
	for _, i := range []int{0, 1, 2} {
		e.c.Crash(i)
	}
	for range cks {
		<-done
	}
	if err := scFirstErr(errs); err != nil {
		e.c.Fatalf("clerks during the reconfiguration: %v", err)
	}
	e.c.WaitEpoch(1, []int{3, 4, 5}, serviceEpochTimeout)

	for _, ck := range append(cks, e.clerk()) {
		ck.checkSame(before, "after the replace-all reconfiguration")
	}
	after := cks[1].checkHistory()
	gids := []int{2, 3}
	for i := range cks {
		gids = append(gids, 100+10*i+2)
	}
	slices.Sort(gids)
	latest := cks[2].expectLatest(len(before)-1+3*len(cks), gids)
	if !reflect.DeepEqual(after[len(after)-1], latest) {
		e.c.Fatalf("two clerks disagree on the latest configuration: %v and %v", scShow(after[len(after)-1]), scShow(latest))
	}

	// The new group goes on, and survives the crash of one of its own.
	cks[0].join(999)
	p, _ := e.c.WaitPrimary(primaryTimeout)
	e.c.Crash(p)
	cks[1].leave(999)
	e.clerk().expectLatest(latest.Num+2, gids)
	final := e.clerk().checkHistory()
	if got := len(final); got != latest.Num+3 {
		e.c.Fatalf("%d configurations after the last Leave; expected %d", got, latest.Num+3)
	}
	t.Logf("%d configurations, the first %d made before the move", len(final), len(before))
}
