package vr_test

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"vrlab/tests/harness"
	"vrlab/vr"
)

// TestBatchingUnderConcurrentClients runs real Nodes (over labrpc) with 24
// clients submitting at once and counts the PREPAREs the backups receive:
// with batching, far fewer than one per op; without it, one per op per
// backup. The harness's checkers verify agreement and exactly-once
// execution either way.
func TestBatchingUnderConcurrentClients(t *testing.T) {
	const clients, opsEach = 24, 40
	run := func(t *testing.T, maxBatch int) float64 {
		c := harness.New(t, 3, "batching", harness.WithOptions(vr.Options{MaxBatchOps: maxBatch}))
		var prepares atomic.Int64
		c.Drop("count PREPAREs", func(m vr.Message) bool {
			if m.Type == vr.MsgPrepare {
				prepares.Add(1)
			}
			return false // count, never drop
		})
		var g errgroup.Group
		for range clients {
			cl := c.NewClient()
			g.Go(func() error {
				for range opsEach {
					if _, err := cl.TrySubmit(cl.NextOp(8), 10*time.Second); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatalf("a client's op did not complete: %v", err)
		}
		perOp := float64(prepares.Load()) / float64(clients*opsEach) / 2 // two backups
		t.Logf("MaxBatchOps %d: %d PREPAREs for %d ops: %.3f per op per backup", maxBatch, prepares.Load(), clients*opsEach, perOp)
		return perOp
	}
	var on, off float64
	t.Run("on", func(t *testing.T) { on = run(t, 0) })
	t.Run("off", func(t *testing.T) { off = run(t, 1) })
	if off < 0.9 {
		t.Errorf("batching off: %.3f PREPAREs per op per backup; expected at least one per op", off)
	}
	if on > 0.5 {
		t.Errorf("batching on: %.3f PREPAREs per op per backup with %d concurrent clients; expected well below one", on, clients)
	}
}
