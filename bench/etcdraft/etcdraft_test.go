package etcdraft

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3"

	"vrlab/bench/system"
	"vrlab/bench/system/systemtest"
)

func TestGroup(t *testing.T) {
	for _, tr := range []string{"inmem", "tcp"} {
		t.Run(tr, func(t *testing.T) { testGroup(t, tr) })
	}
}

func testGroup(t *testing.T, transport string) {
	before := runtime.NumGoroutine()
	sg, err := New(transport)
	require.NoError(t, err)
	g := sg.(*group)
	systemtest.Exercise(t, g, func() []uint64 { return applied(g) }, transport == "tcp")
	g.Close()
	systemtest.NoLeaks(t, before)
}

func applied(g *group) []uint64 {
	var a []uint64
	for _, r := range g.reps {
		a = append(a, r.kv.Applied())
	}
	return a
}

func TestUnknownTransport(t *testing.T) {
	_, err := New("carrier-pigeon")
	require.Error(t, err)
}

func TestSubmitAfterClose(t *testing.T) {
	g, err := New("inmem")
	require.NoError(t, err)
	g.Close()
	g.Close() // idempotent
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = g.Submit(ctx, system.Command(0, 0))
	require.ErrorIs(t, err, ErrClosed)
}

// TestSnapshotCatchUp cuts a follower off, lets the others compact their
// logs past it, and checks that it catches up from a snapshot.
func TestSnapshotCatchUp(t *testing.T) {
	const clients, perClient = 8, 100
	g, err := newGroup("inmem", 100, 50, raft.ReadOnlySafe, nil)
	require.NoError(t, err)
	defer g.Close()

	lead := g.findLeader()
	require.NotNil(t, lead)
	var f *replica
	for _, r := range g.reps {
		if r != lead {
			f = r
			break
		}
	}
	tr := g.tr.(*inmem)
	tr.cut[f.id-1].Store(true)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				if _, err := g.Submit(ctx, system.Command(c, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	first, err := lead.storage.FirstIndex()
	require.NoError(t, err)
	require.Greater(t, first, uint64(50), "leader log not compacted")
	require.Less(t, f.kv.Applied(), uint64(clients*perClient))

	tr.cut[f.id-1].Store(false)
	const want = clients * perClient
	deadline := time.Now().Add(10 * time.Second)
	for f.kv.Applied() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	require.EqualValues(t, want, f.kv.Applied(), "cut-off follower did not catch up")

	res, err := g.Submit(ctx, system.Command(0, perClient))
	require.NoError(t, err)
	require.NoError(t, system.CheckResult(res))
}
