// Package systemtest holds the checks every system.Group's tests share:
// a concurrent load whose every result is checked, a bounded wait for the
// followers to apply it, the counters, and no goroutine left behind.
package systemtest

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

// Exercise is the story every adapter's test tells: 32 clients submit 50
// commands each, every result checks, every replica (applied gives each
// one's count) applies them all, and the counters show the traffic (wire
// bytes exactly when tcp).
func Exercise(t *testing.T, g system.Group, applied func() []uint64, tcp bool) {
	t.Helper()
	const clients, perClient = 32, 50
	Load(t, g, clients, perClient)
	WaitApplied(t, applied, clients*perClient)
	CheckCounters(t, g, tcp)
}

// Load runs clients goroutines, each submitting perClient workload
// commands to g one after another, and requires every result to check.
func Load(t *testing.T, g system.Group, clients, perClient int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				res, err := g.Submit(ctx, system.Command(c, i))
				if err == nil {
					err = system.CheckResult(res)
				}
				if err != nil {
					errs <- fmt.Errorf("client %d, command %d: %w", c, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// WaitApplied waits, at most 5 s, until every replica has applied want
// commands (followers learn the commit point with the next message).
func WaitApplied(t *testing.T, applied func() []uint64, want uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		done := true
		for _, a := range applied() {
			done = done && a >= want
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas applied %v, want ≥ %d each", applied(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// CheckCounters requires messages between the replicas, and wire bytes
// exactly when they talk over TCP.
func CheckCounters(t *testing.T, g system.Group, tcp bool) {
	t.Helper()
	c := g.Counters()
	require.Positive(t, c.Messages, "messages between replicas")
	if tcp {
		require.Positive(t, c.WireBytes, "bytes on replica connections")
	} else {
		require.Zero(t, c.WireBytes, "an in-memory transport has no wire")
	}
}

// NoLeaks waits, at most 5 s, until no more goroutines run than before
// (runtime.NumGoroutine before the group started), and fails with every
// stack otherwise.
func NoLeaks(t *testing.T, before int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			b := make([]byte, 1<<20)
			t.Fatalf("goroutines after Close: %d, before: %d\n%s", runtime.NumGoroutine(), before, b[:runtime.Stack(b, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
