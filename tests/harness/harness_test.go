package harness

import (
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
