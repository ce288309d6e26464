package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"vrlab/kvvr"
	"vrlab/kvvr/kvmodel"
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
	five := []int{0, 1, 2, 3, 4}
	w := newWatcher(idle(5))
	w.observe(2, vr.State{View: 1, Members: five})
	w.observe(1, vr.State{View: 1, IsPrimary: true, Members: five}) // only R2 reached view 1; f=2
	require.ErrorContains(t, w.failure(), "needs DOVIEWCHANGE from f=2 others")

	ok := newWatcher(idle(5))
	ok.observe(2, vr.State{View: 1, Members: five})
	ok.observe(3, vr.State{View: 3, Members: five}) // views only grow: view 3 implies it passed view 1
	ok.observe(1, vr.State{View: 1, IsPrimary: true, Members: five})
	require.NoError(t, ok.failure())
}

// The same across epochs: views count within an epoch, f is the epoch's,
// and a later epoch's view 1 is not the earlier's.
func TestWatcherEpochs(t *testing.T) {
	w := newWatcher(idle(5))
	w.observe(0, vr.State{Epoch: 0, View: 0, IsPrimary: true, Members: []int{0, 1, 2}})
	w.observe(3, vr.State{Epoch: 1, View: 0, IsPrimary: true, Members: []int{3, 4, 1}}) // view 0 of an epoch needs no votes
	require.NoError(t, w.failure())
	w.observe(4, vr.State{Epoch: 1, View: 1, IsPrimary: true, Members: []int{3, 4, 1}})
	require.ErrorContains(t, w.failure(), "primary of view 1 of epoch 1, but only 0 other members [3 4 1]")

	two := newWatcher(idle(5))
	two.observe(3, vr.State{Epoch: 1, View: 0, IsPrimary: true, Members: []int{3, 4, 1}})
	two.observe(4, vr.State{Epoch: 1, View: 0, IsPrimary: true, Members: []int{4, 3, 1}})
	require.ErrorContains(t, two.failure(), "two primaries in view 0 of epoch 1: R3 and R4")
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
	// The watcher samples on its own: after a wait that saw a state, let
	// it see it too (10 samples: the race detector slows it).
	const settle = 10 * watchEvery
	c := New(t, 3, "harness self-test: timeline", WithOptions(vr.Options{CheckpointEvery: 2}))
	cl := c.NewClient()
	p, _ := c.WaitPrimary(wait)
	for n := 0; n < 3; n++ {
		cl.Submit(cl.NextOp(0), wait)
	}
	c.WaitExecuted(3, c.All(), wait)
	c.Sleep(settle)

	// The primary is cut off; on its return it has missed view v and
	// catches up by state transfer, held long enough to be seen.
	c.Drop("hold NEWSTATE", func(m vr.Message) bool { return m.Type == vr.MsgNewState })
	c.Disconnect(p)
	q, v := c.WaitPrimary(wait)
	c.Sleep(settle)
	c.Connect(p)
	c.Eventually(wait, "the old primary in state transfer", func() (bool, string) {
		st, _ := c.State(p)
		return st.Status == vr.StateTransfer, StatusLabel(st)
	})
	c.Sleep(settle)
	c.Undrop("hold NEWSTATE")
	c.Eventually(wait, "every replica normal in view v", func() (bool, string) { return c.AllNormalIn(v) })

	// A backup crashes and restarts; its recovery is held long enough to be seen.
	b := 3 - p - q
	c.Drop("hold RECOVERYRESPONSE", func(m vr.Message) bool { return m.Type == vr.MsgRecoveryResponse })
	c.Crash(b)
	c.Restart(b)
	c.Sleep(settle)
	c.Undrop("hold RECOVERYRESPONSE")
	c.WaitRecovered(b, wait)
	c.Partition([]int{q, b}, []int{p})
	c.Heal()
	c.Sleep(settle)

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

// TestPageAnnotated feeds a known non-linearizable history and a timeline
// of every kind through WritePage, the writer of the KV tests' failure
// page, and checks the page holds every annotation.
func TestPageAnnotated(t *testing.T) {
	start := time.Now()
	ms := func(n int) time.Time { return start.Add(time.Duration(n) * time.Millisecond) }
	put := kvvr.Op{Kind: kvvr.OpPut, Key: "x", Value: "1"}
	get := kvvr.Op{Kind: kvvr.OpGet, Key: "x"}
	ops := []porcupine.Operation{ // a Get that misses a Put completed before it: a stale read
		{ClientId: 0, Input: put, Call: int64(10 * time.Millisecond), Return: int64(20 * time.Millisecond)},
		{ClientId: 1, Input: get, Call: int64(30 * time.Millisecond), Output: "", Return: int64(40 * time.Millisecond)},
	}
	res, info := porcupine.CheckOperationsVerbose(kvmodel.Model, ops, time.Second)
	require.Equal(t, porcupine.Illegal, res)

	events := []Event{
		{At: ms(1), Kind: EventStatus, Replica: 0, State: vr.State{Status: vr.Normal, IsPrimary: true}},
		{At: ms(2), Kind: EventPrimary, Replica: 0, State: vr.State{Status: vr.Normal, IsPrimary: true}},
		{At: ms(3), Kind: EventStatus, Replica: 1, State: vr.State{Status: vr.Normal}},
		{At: ms(4), Kind: EventCheckpoint, Replica: 1, State: vr.State{CheckpointOpNumber: 20}},
		{At: ms(5), Kind: EventPartition, Replica: -1, Network: "R1 R2 | cut off R0"},
		{At: ms(6), Kind: EventStatus, Replica: 1, State: vr.State{View: 1, Status: vr.ViewChange}},
		{At: ms(7), Kind: EventStatus, Replica: 1, State: vr.State{View: 1, Status: vr.Normal, IsPrimary: true}},
		{At: ms(8), Kind: EventPrimary, Replica: 1, State: vr.State{View: 1, Status: vr.Normal, IsPrimary: true}},
		{At: ms(9), Kind: EventHeal, Replica: -1},
		{At: ms(11), Kind: EventStatus, Replica: 0, State: vr.State{Status: vr.StateTransfer}},
		{At: ms(12), Kind: EventDrop, Replica: -1, Rule: "hold"},
		{At: ms(13), Kind: EventCrash, Replica: 2},
		{At: ms(14), Kind: EventRestart, Replica: 2},
		{At: ms(15), Kind: EventStatus, Replica: 2, State: vr.State{Status: vr.Recovering}},
		{At: ms(16), Kind: EventUndrop, Replica: -1, Rule: "hold"},
		{At: ms(17), Kind: EventDisconnect, Replica: 2, Network: "R0 R1 | cut off R2"},
		{At: ms(18), Kind: EventConnect, Replica: 2},
	}
	annotations := Annotations(events, start, int64(40*time.Millisecond))
	byDescription := map[string]porcupine.Annotation{}
	for _, a := range annotations {
		byDescription[a.Description] = a
	}
	want := map[string]string{ // description → row
		"v0 primary": "R0", "view 0: R0": "views", "v0 backup": "R1", "R1 ckpt 20": "checkpoints",
		"R1 R2 | cut off R0": "network", "view change to v1": "R1", "v1 primary": "R1", "view 1: R1": "views",
		"heal": "network", "state transfer": "R0", "dropping": "drop: hold", "crashed": "R2", "restart": "R2",
		"recovering": "R2", "R0 R1 | cut off R2": "network", "R2 connected": "network",
	}
	require.Len(t, annotations, len(want))
	for description, row := range want {
		require.Contains(t, byDescription, description)
		require.Equal(t, row, byDescription[description].Tag, description)
	}
	span := func(description string) (time.Duration, time.Duration) {
		a := byDescription[description]
		return time.Duration(a.Start), time.Duration(a.End)
	}
	for description, want := range map[string][2]int{
		"R1 R2 | cut off R0": {5, 9}, // until the heal
		"crashed":            {13, 14},
		"dropping":           {12, 16},
		"v1 primary":         {7, 40}, // open at the end
		"heal":               {9, 9},  // a point
	} {
		from, to := span(description)
		require.Equal(t, [2]time.Duration{time.Duration(want[0]) * time.Millisecond, time.Duration(want[1]) * time.Millisecond}, [2]time.Duration{from, to}, description)
	}
	require.Equal(t, annotationColour["crash"], byDescription["crashed"].BackgroundColor)
	require.Contains(t, byDescription["crashed"].Details, "R2 crashed at 13ms")

	path, err := WritePage("TestPageAnnotated/sub", kvmodel.Model, info, ops, events, start)
	require.NoError(t, err)
	t.Cleanup(func() { os.Remove(path) })
	require.Contains(t, filepath.Base(path), "TestPageAnnotated_sub-")
	html, err := os.ReadFile(path)
	require.NoError(t, err)
	page := string(html)
	require.Equal(t, len(want), strings.Count(page, `"Annotation":true`), "annotations on the page")
	for description := range want {
		require.Contains(t, page, fmt.Sprintf("%q", description))
	}
	require.Contains(t, page, `"Tag":"drop: hold"`)
}
