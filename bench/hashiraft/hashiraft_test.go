package hashiraft

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"vrlab/bench/system"
)

const (
	clients   = 32
	perClient = 50
	total     = clients * perClient
)

func TestGroup(t *testing.T) {
	for _, transport := range []string{"tcp", "inmem"} {
		t.Run(transport, func(t *testing.T) {
			before := runtime.NumGoroutine()
			sg, err := New(transport)
			require.NoError(t, err)
			closed := false
			defer func() {
				if !closed {
					sg.Close()
				}
			}()
			g := sg.(*group)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			errs := make(chan error, total)
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() {
					for i := range perClient {
						res, err := g.Submit(ctx, system.Command(c, i))
						if err == nil {
							err = system.CheckResult(res)
						}
						if err != nil {
							errs <- fmt.Errorf("client %d submit %d: %w", c, i, err)
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}

			// Followers learn the commit index on the next AppendEntries
			// or heartbeat (≤ 200 ms with the defaults).
			require.Eventually(t, func() bool {
				for _, rep := range g.replicas {
					if rep.kv.Applied() < total {
						return false
					}
				}
				return true
			}, 5*time.Second, 10*time.Millisecond, "replicas applied %v, want ≥ %d each", applied(g), total)

			cs := g.Counters()
			require.Positive(t, cs.Messages, "messages")
			if transport == "tcp" {
				require.Positive(t, cs.WireBytes, "wire bytes")
			} else {
				require.Zero(t, cs.WireBytes, "wire bytes")
			}
			t.Logf("%s: %d messages, %d wire bytes for %d commands", transport, cs.Messages, cs.WireBytes, total)

			g.Close()
			closed = true
			g.Close() // idempotent
			// Polled by hand: require.Eventually runs its condition on a
			// goroutine of its own.
			for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
				if time.Now().After(deadline) {
					t.Fatalf("goroutines after Close: %d, before New: %d\n%s", runtime.NumGoroutine(), before, stacks())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestUnknownTransport(t *testing.T) {
	_, err := New("udp")
	require.ErrorContains(t, err, "unknown transport")
}

func applied(g *group) []uint64 {
	var a []uint64
	for _, rep := range g.replicas {
		a = append(a, rep.kv.Applied())
	}
	return a
}

func stacks() string {
	b := make([]byte, 1<<20)
	return string(b[:runtime.Stack(b, true)])
}
