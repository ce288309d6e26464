package harness

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"vrlab/vr"
)

// The checkers must catch what they claim to catch: each test feeds one a
// violation and expects it to be reported.

func TestCheckerAgreement(t *testing.T) {
	ck := newChecker(3)
	ck.applied(0, 1, 1, []byte("a"), 1)
	ck.applied(1, 1, 1, []byte("a"), 1) // same op at the same op-number: fine
	require.NoError(t, ck.failure())
	ck.applied(2, 1, 1, []byte("b"), 2)
	require.ErrorContains(t, ck.failure(), "agreement violated")
}

func TestCheckerExactlyOnce(t *testing.T) {
	ck := newChecker(3)
	ck.applied(0, 1, 1, []byte("a"), 1)
	ck.applied(0, 1, 2, []byte("a"), 2)
	require.ErrorContains(t, ck.failure(), "executed twice")
}

func TestCheckerRestoredSnapshot(t *testing.T) {
	ck := newChecker(3)
	ck.applied(0, 1, 1, []byte("a"), 11)
	ck.restored(1, 1, 1, 11)
	require.NoError(t, ck.failure())
	require.Equal(t, 1, ck.restoresOf(1))
	ck.restored(2, 1, 1, 99)
	require.ErrorContains(t, ck.failure(), "does not match")
}

func TestRecorderSnapshotRoundTrip(t *testing.T) {
	ck := newChecker(2)
	a := newRecorder(ck, 0, 1, 100)
	a.Apply([]byte("x"))
	a.Apply([]byte("y"))
	b := newRecorder(ck, 1, 1, 0)
	b.Restore(a.Snapshot())
	require.Equal(t, 2, b.Executed())
	require.Equal(t, []byte("3"), b.Apply([]byte("z")), "the op after a restored snapshot of 2 ops is op 3")
	require.NoError(t, ck.failure())
}

// idle is a Cluster with no replicas running, for checkers fed by hand.
func idle(n int) *Cluster { return &Cluster{n: n, nodes: make([]*vr.Node, n)} }

func TestWatcherTwoPrimaries(t *testing.T) {
	w := newWatcher(idle(3))
	w.observe(0, vr.State{View: 0, IsPrimary: true})
	w.observe(1, vr.State{View: 0, IsPrimary: true})
	require.ErrorContains(t, w.failure(), "two primaries in view 0")
}

func TestWatcherPrimaryWithoutQuorum(t *testing.T) {
	w := newWatcher(idle(5))
	w.observe(2, vr.State{View: 1})
	w.observe(1, vr.State{View: 1, IsPrimary: true}) // only R2 reached view 1; f=2
	require.ErrorContains(t, w.failure(), "needs DOVIEWCHANGE from f=2 others")

	ok := newWatcher(idle(5))
	ok.observe(2, vr.State{View: 1})
	ok.observe(3, vr.State{View: 3}) // views only grow: view 3 implies it passed view 1
	ok.observe(1, vr.State{View: 1, IsPrimary: true})
	require.NoError(t, ok.failure())
}

// TestClusterLifecycle runs a real cluster through a crash and a restart and
// checks the summary line and that cleanup leaves no goroutines (cleanup
// itself fails the test otherwise).
func TestClusterLifecycle(t *testing.T) {
	c := New(t, 3, "harness self-test")
	cl := c.NewClient()
	p, _ := c.WaitPrimary(5 * time.Second)
	require.Equal(t, 1, cl.Submit(cl.NextOp(0), 5*time.Second))
	b := (p + 1) % 3
	c.Crash(b)
	require.False(t, c.Alive(b))
	require.Contains(t, c.Describe(), "crashed")
	cl.Submit(cl.NextOp(0), 5*time.Second)
	c.Restart(b)
	c.WaitRecovered(b, 5*time.Second)
	c.WaitExecuted(2, c.All(), 5*time.Second)
	require.Positive(t, c.RPCs())
	require.Positive(t, c.Bytes())
	require.True(t, strings.HasPrefix(c.title, "harness"))
}

// TestTimelineEvents runs a small cluster through every kind of event and
// checks that the timeline holds each, in order: the faults where the
// harness caused them, and the views, statuses and checkpoints the watcher
// saw between them.
func TestTimelineEvents(t *testing.T) {
	const wait = 5 * time.Second
	c := New(t, 3, "harness self-test: timeline", WithOptions(vr.Options{CheckpointEvery: 2}))
	cl := c.NewClient()
	p, _ := c.WaitPrimary(wait)
	for n := 0; n < 3; n++ {
		cl.Submit(cl.NextOp(0), wait)
	}
	c.WaitExecuted(3, c.All(), wait)
	c.Sleep(3 * watchEvery) // the watcher sees the checkpoints

	// The primary is cut off; on its return it has missed view v and
	// catches up by state transfer, held long enough to be seen.
	c.Drop("hold NEWSTATE", func(m vr.Message) bool { return m.Type == vr.MsgNewState })
	c.Disconnect(p)
	q, v := c.WaitPrimary(wait)
	c.Connect(p)
	c.Eventually(wait, "the old primary in state transfer", func() (bool, string) {
		st, _ := c.State(p)
		return st.Status == vr.StateTransfer, StatusLabel(st)
	})
	c.Sleep(3 * watchEvery)
	c.Undrop("hold NEWSTATE")
	c.Eventually(wait, "every replica normal in view v", func() (bool, string) { return c.AllNormalIn(v) })

	// A backup crashes and restarts; its recovery is held long enough to be seen.
	b := 3 - p - q
	c.Drop("hold RECOVERYRESPONSE", func(m vr.Message) bool { return m.Type == vr.MsgRecoveryResponse })
	c.Crash(b)
	c.Restart(b)
	c.Sleep(3 * watchEvery)
	c.Undrop("hold RECOVERYRESPONSE")
	c.WaitRecovered(b, wait)
	c.Partition([]int{q, b}, []int{p})
	c.Heal()
	c.Sleep(3 * watchEvery)

	events := c.Events()
	var faults []EventKind
	at := map[EventKind][]int{} // each kind's indexes in events
	for i, e := range events {
		if i > 0 {
			require.False(t, e.At.Before(events[i-1].At), "event %d (%v) is before event %d (%v)", i, e, i-1, events[i-1])
		}
		at[e.Kind] = append(at[e.Kind], i)
		switch e.Kind {
		case EventStatus, EventPrimary, EventCheckpoint:
		default:
			faults = append(faults, e.Kind)
		}
	}
	require.Equal(t, []EventKind{
		EventDrop, EventDisconnect, EventConnect, EventUndrop,
		EventDrop, EventCrash, EventRestart, EventUndrop,
		EventPartition, EventHeal,
	}, faults)
	fault := func(k EventKind, nth int) int { return at[k][nth] }
	// seen reports whether an event strictly between indexes from and to matches.
	seen := func(from, to int, match func(Event) bool) bool {
		for _, e := range events[from+1 : to] {
			if match(e) {
				return true
			}
		}
		return false
	}

	require.Equal(t, fmt.Sprintf("R%d disconnected (links: ", p), events[fault(EventDisconnect, 0)].String()[:len("R0 disconnected (links: ")])
	require.Equal(t, "healed (all linked)", events[fault(EventHeal, 0)].String())
	require.Equal(t, fmt.Sprintf("R%d R%d | R%d", min(q, b), max(q, b), p), events[fault(EventPartition, 0)].Network)

	require.True(t, seen(-1, fault(EventDrop, 0), func(e Event) bool {
		return e.Kind == EventCheckpoint && e.State.CheckpointOpNumber >= 2
	}), "no checkpoint seen after 3 ops with a checkpoint every 2: %v", events)
	require.True(t, seen(fault(EventDisconnect, 0), fault(EventConnect, 0), func(e Event) bool {
		return e.Kind == EventPrimary && e.Replica == q && e.State.View == v
	}), "R%d was not seen becoming primary of view %d while R%d was cut off: %v", q, v, p, events)
	require.True(t, seen(fault(EventConnect, 0), fault(EventUndrop, 0), func(e Event) bool {
		return e.Kind == EventStatus && e.Replica == p && e.State.Status == vr.StateTransfer
	}), "R%d not seen in state transfer: %v", p, events)
	require.False(t, seen(fault(EventCrash, 0), fault(EventRestart, 0), func(e Event) bool {
		return e.Replica == b
	}), "an event of R%d while it was crashed: %v", b, events)
	require.True(t, seen(fault(EventRestart, 0), fault(EventUndrop, 1), func(e Event) bool {
		return e.Kind == EventStatus && e.Replica == b && e.State.Status == vr.Recovering
	}), "R%d not seen recovering: %v", b, events)
	require.True(t, seen(fault(EventUndrop, 1), len(events), func(e Event) bool {
		return e.Kind == EventStatus && e.Replica == b && e.State.Status == vr.Normal
	}), "R%d not seen normal after recovering: %v", b, events)
}
