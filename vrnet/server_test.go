package vrnet

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"vrlab/vr"
)

// echoHandler answers every request with its op reversed, and counts them.
type echoHandler struct {
	mu sync.Mutex
	n  int
}

func (h *echoHandler) Request(ctx context.Context, args vr.RequestArgs) vr.RequestReply {
	h.mu.Lock()
	h.n++
	h.mu.Unlock()
	out := make([]byte, len(args.Op))
	for i, b := range args.Op {
		out[len(out)-1-i] = b
	}
	return vr.RequestReply{OK: true, Result: out}
}

func (h *echoHandler) State() vr.State { return vr.State{Status: vr.Normal, IsPrimary: true} }

func TestServerAnswersClientsOfAnyHandler(t *testing.T) {
	logs := &logBuf{}
	h := &echoHandler{}
	addr := freeAddrs(t, 1)
	s, err := Serve(Config{Peers: addr, Logger: slog.New(slog.NewTextHandler(logs, nil))}, h)
	require.NoError(t, err)
	defer s.Close()

	c, err := NewClient(Config{Peers: addr})
	require.NoError(t, err)
	defer c.Close()
	vc := vr.NewClient(1, c)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, op := range []string{"abc", "hello", ""} {
		res, err := vc.InvokeContext(ctx, []byte(op))
		require.NoError(t, err)
		want := []byte(op)
		for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
			want[i], want[j] = want[j], want[i]
		}
		require.Equal(t, string(want), string(res))
	}
	st, err := c.Status(ctx, 0)
	require.NoError(t, err)
	require.True(t, st.IsPrimary)

	// A replica's hello is refused: a Server has no replicas.
	conn := rawConn(t, addr[0], &hello{Role: roleReplica, ID: 0, NPeer: 1})
	expectClosed(t, conn, "a replica's hello to a Server")
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "takes only clients") }, 5*time.Second, 10*time.Millisecond,
		"the refusal is logged; the log:\n%s", logs)
	require.Equal(t, 3, h.n)
}

func TestReplicaStatsCountTraffic(t *testing.T) {
	tc := startCluster(t, 3, nil)
	ck, _ := tc.clerk(tc.config(-1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ck.PutContext(ctx, "k", "v"))
	// At least a PREPARE to each backup and a PREPAREOK back. The Put may
	// return before the PREPARE to the slower backup is sent (its
	// connection still being dialled), and a message is counted before it
	// is written and its bytes after: wait for both.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var msgs, bytes int64
		for _, r := range tc.reps {
			st := r.Stats()
			msgs += st.Messages
			bytes += st.Bytes
		}
		if msgs >= 3 && bytes > msgs*8 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("expected at least 3 messages sent between replicas (a PREPARE to each backup, a PREPAREOK), each a frame of several bytes; "+
				"5s after the Put, Stats counts %d messages and %d bytes", msgs, bytes)
		}
	}
}
