package tests

// Part D: checkpoints and log compaction. See LAB-D.md.

import (
	"fmt"
	"testing"
	"time"

	"vrlab/tests/harness"
	"vrlab/vr"
)

// checkpointEvery is the Options.CheckpointEvery of the part-D tests.
const checkpointEvery = 10

// maxLogLen is the most log entries a replica may hold: the ops since its
// latest checkpoint (fewer than CheckpointEvery once executed) plus the
// uncommitted and not-yet-executed ones, which the tests keep few.
const maxLogLen = 3 * checkpointEvery

func withCheckpoints() harness.Option {
	return harness.WithOptions(vr.Options{CheckpointEvery: checkpointEvery})
}

// logsBounded reports whether every replica's log is within maxLogLen.
func logsBounded(c *harness.Cluster) (bool, string) {
	for i := 0; i < c.N(); i++ {
		if st, ok := c.State(i); ok && st.LogLen > maxLogLen {
			return false, fmt.Sprintf("R%d holds %d log entries (checkpoint at op %d, op-number %d)", i, st.LogLen, st.CheckpointOpNumber, st.OpNumber)
		}
	}
	return true, ""
}

// requireRestored fails unless replica i installed a checkpoint.
func requireRestored(c *harness.Cluster, i int, how string) {
	if c.Restores(i) == 0 {
		c.Fatalf("R%d caught up %s without installing a checkpoint, but the ops it lacked had been compacted away", i, how)
	}
}

// TestLogBoundedD: under continuous load every replica's log stays within
// 3 × CheckpointEvery entries.
func TestLogBoundedD(t *testing.T) {
	c := harness.New(t, 3, "Test (D): log stays bounded", withCheckpoints())
	load := c.StartLoad(3, opTimeout)
	c.During(2*time.Second, fmt.Sprintf("every log within %d entries", maxLogLen), func() (bool, string) {
		return logsBounded(c)
	})
	_, highest := load.Stop()
	if highest < 10*checkpointEvery {
		c.Fatalf("only %d ops in 2s; the test needs at least %d to mean anything", highest, 10*checkpointEvery)
	}
	c.WaitConverged(5 * time.Second)
	for i := 0; i < 3; i++ {
		if st, _ := c.State(i); st.CheckpointOpNumber < highest-2*checkpointEvery {
			c.Fatalf("R%d's latest checkpoint is at op %d, but %d ops executed: checkpoints must follow every %d ops", i, st.CheckpointOpNumber, highest, checkpointEvery)
		}
	}
}

// catchUp cuts a backup off while the others commit and compact, then
// reconnects it: it must catch up through a checkpoint.
func catchUp(c *harness.Cluster) {
	cl := c.NewClient()
	p, _ := c.WaitPrimary(2 * primaryTimeout)
	b := (p + 1) % c.N()
	c.Disconnect(b)
	last := submitN(cl, 5*checkpointEvery, 0)
	c.Connect(b)
	last = max(last, submitN(cl, 1, 0))
	c.Reliable(true)
	c.WaitExecuted(last, c.All(), 10*time.Second)
	requireRestored(c, b, "after being cut off")
	if ok, seen := logsBounded(c); !ok {
		c.Fatalf("after catching up: %s", seen)
	}
}

// TestCatchUpViaCheckpointD: a backup cut off while the others compact
// catches up through a checkpoint.
func TestCatchUpViaCheckpointD(t *testing.T) {
	catchUp(harness.New(t, 3, "Test (D): catch up through a checkpoint", withCheckpoints()))
}

// TestCatchUpViaCheckpointUnreliableD: the same on an unreliable network.
func TestCatchUpViaCheckpointUnreliableD(t *testing.T) {
	catchUp(harness.New(t, 5, "Test (D): catch up through a checkpoint, unreliable", withCheckpoints(), harness.Unreliable()))
}

// TestRecoverFromCheckpointD: a crashed replica recovers from a checkpoint
// (the ops before it are gone from every log) and is then needed.
func TestRecoverFromCheckpointD(t *testing.T) {
	c := harness.New(t, 3, "Test (D): recovery from a checkpoint", withCheckpoints())
	cl := c.NewClient()
	p, _ := c.WaitPrimary(primaryTimeout)
	submitN(cl, 2*checkpointEvery, 0)
	b := (p + 1) % 3
	c.Crash(b)
	submitN(cl, 3*checkpointEvery, 0)
	c.Restart(b)
	c.WaitRecovered(b, recoverTimeout)
	requireRestored(c, b, "by recovery")
	requireParticipant(c, cl, b)
	c.WaitConverged(5 * time.Second)
}

// TestRecoverUnreliableCrashD: crashes of every replica in turn under load,
// with checkpoints, on an unreliable network.
func TestRecoverUnreliableCrashD(t *testing.T) {
	c := harness.New(t, 3, "Test (D): recovery, crashes and an unreliable network", withCheckpoints(), harness.Unreliable())
	load := c.StartLoad(3, 3*opTimeout)
	for i := 0; i < 3; i++ {
		load.WaitProgress(2*checkpointEvery, 3*opTimeout)
		crashRestart(c, i, 300*time.Millisecond)
	}
	load.WaitProgress(checkpointEvery, 3*opTimeout)
	_, highest := load.Stop()
	c.Reliable(true)
	if got := c.WaitConverged(10 * time.Second); got < highest {
		c.Fatalf("replicas converged at op %d, but a client saw op %d complete", got, highest)
	}
	if ok, seen := logsBounded(c); !ok {
		c.Fatalf("%s", seen)
	}
}

// TestNewPrimaryBehindD: the next primary was cut off while the others
// compacted; it becomes primary before any state transfer. The log it picks
// begins after a checkpoint it lacks, so it must install that checkpoint.
func TestNewPrimaryBehindD(t *testing.T) {
	c := harness.New(t, 3, "Test (D): new primary behind the compacted log", withCheckpoints())
	cl := c.NewClient()
	if p, _ := c.WaitPrimary(primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}
	c.Disconnect(1)
	last := submitN(cl, 5*checkpointEvery, 0)

	// R1 returns hearing nothing from R0, which then goes: view 1, R1's.
	c.Drop("R0 to R1", func(m vr.Message) bool { return m.From == 0 && m.To == 1 })
	c.Connect(1)
	c.Disconnect(0)
	if p, v := c.WaitPrimary(2 * primaryTimeout); p != 1 {
		c.Fatalf("expected R1 to become primary (view 1), got R%d in view %d", p, v)
	}
	c.Undrop("R0 to R1")
	requireRestored(c, 1, "as the new primary")
	if got := cl.Submit(cl.NextOp(0), opTimeout); got != last+1 {
		c.Fatalf("the new primary's first op executed as op %d; expected %d", got, last+1)
	}
	c.Connect(0)
	c.WaitConverged(5 * time.Second)
}

// TestClientTableCheckpointD: the client-table is part of the checkpoint. A
// request resent after compaction — even to a replica that rebuilt its state
// from a checkpoint — gets its original reply, not a second execution.
func TestClientTableCheckpointD(t *testing.T) {
	c := harness.New(t, 3, "Test (D): client-table survives a checkpoint", withCheckpoints())
	cl := c.NewClient()
	p, v := c.WaitPrimary(primaryTimeout)
	const id = 777
	op := cl.NextOp(0)
	first, ok := cl.Raw(p, id, 1, op)
	if !ok || !first.OK {
		c.Fatalf("request 1 of client %d got no result: %+v", id, first)
	}
	submitN(cl, 3*checkpointEvery, 0)

	// The next primary crashes and recovers from a checkpoint taken after
	// the request; then it becomes primary.
	next := (v + 1) % 3
	crashRestart(c, next, 100*time.Millisecond)
	requireRestored(c, next, "by recovery")
	c.Disconnect(p)
	if p2, _ := c.WaitPrimary(2 * primaryTimeout); p2 != next {
		c.Fatalf("expected R%d to become primary, got R%d", next, p2)
	}
	executed := c.Executed(next)
	again, ok := cl.Raw(next, id, 1, op)
	if !ok || !again.OK || string(again.Result) != string(first.Result) {
		c.Fatalf("request 1 resent after compaction got %+v (rpc ok=%v); expected the original reply %q\n"+
			"(does the checkpoint carry the client-table? VR-PROTOCOL.md §5)", again, ok, first.Result)
	}
	c.Sleep(200 * time.Millisecond)
	if now := c.Executed(next); now != executed {
		c.Fatalf("resending an executed request executed %d more ops", now-executed)
	}
}

// TestLargeStateCheckpointD: a service whose snapshot is large (256 KB)
// still transfers correctly, to a lagging backup and to a recovering one.
func TestLargeStateCheckpointD(t *testing.T) {
	c := harness.New(t, 3, "Test (D): large service state", withCheckpoints(), harness.SnapshotPadding(256<<10))
	catchUp(c)
	cl := c.NewClient()
	p, _ := c.WaitPrimary(primaryTimeout)
	b := (p + 2) % 3
	c.Crash(b)
	submitN(cl, 2*checkpointEvery, 0)
	c.Restart(b)
	c.WaitRecovered(b, recoverTimeout)
	requireRestored(c, b, "by recovery")
	c.WaitConverged(5 * time.Second)
}

// TestCheckpointBytesD: only the messages that may have to install a log
// from a checkpoint (state transfer, view change, recovery) carry it; the
// normal case's PREPAREs and COMMITs do not. With a 256 KB service state and
// no faults, a second of idling after the replicas converged moves far less
// than one checkpoint per heartbeat would.
func TestCheckpointBytesD(t *testing.T) {
	const pad = 256 << 10
	c := harness.New(t, 3, "Test (D): the checkpoint stays off normal messages", withCheckpoints(), harness.SnapshotPadding(pad))
	cl := c.NewClient()
	c.WaitPrimary(primaryTimeout)
	submitN(cl, 3*checkpointEvery, 0)
	c.WaitConverged(5 * time.Second)
	for i := 0; i < c.N(); i++ {
		if st, _ := c.State(i); st.CheckpointOpNumber < checkpointEvery {
			c.Fatalf("after %d ops with CheckpointEvery %d, R%d's latest checkpoint is at op %d; expected one at op %d or later",
				3*checkpointEvery, checkpointEvery, i, st.CheckpointOpNumber, checkpointEvery)
		}
	}
	c.ResetCounters()
	c.Sleep(time.Second)
	// A heartbeat every 100 ms to 2 backups with a checkpoint would be about
	// 20 checkpoints a second; an idle group that has converged sends none.
	if got, budget := c.Bytes(), int64(4*pad); got > budget {
		c.Fatalf("a second of idling after the replicas converged moved %d bytes (%d RPCs); expected at most %d with no faults\n"+
			"(a %d-byte checkpoint on every PREPARE or COMMIT? only state transfer, view change and recovery need it)", got, c.RPCs(), budget, pad)
	}
}

// TestCheckpointInBatchD: a checkpoint is due whenever K ops were executed
// since the latest one, even in the middle of a batch. With every PREPAREOK
// lost, the primary takes 2½K concurrent ops that cannot commit; then the
// PREPAREOKs pass, all of the ops commit together, and each replica executes
// them in one go. Checking for a checkpoint after every op gives one at 2K;
// checking once after the batch for a multiple of K gives none.
func TestCheckpointInBatchD(t *testing.T) {
	c := harness.New(t, 3, "Test (D): checkpoints inside one batch of executed ops", withCheckpoints())
	p, _ := c.WaitPrimary(primaryTimeout)
	c.Drop("no PREPAREOK", func(m vr.Message) bool { return m.Type == vr.MsgPrepareOK })
	const n = 2*checkpointEvery + checkpointEvery/2
	var pending []*harness.Pending
	for i := 0; i < n; i++ {
		cl := c.NewClient()
		pending = append(pending, cl.Start(cl.NextOp(0), 4*opTimeout))
	}
	c.Eventually(5*time.Second, fmt.Sprintf("primary R%d to take %d ops it cannot commit", p, n), func() (bool, string) {
		st, _ := c.State(p)
		return st.OpNumber >= n, fmt.Sprintf("R%d %v in view %d with op-number %d, commit-number %d", p, st.Status, st.View, st.OpNumber, st.CommitNumber)
	})
	c.Eventually(5*time.Second, fmt.Sprintf("both backups to hold the %d ops", n), func() (bool, string) {
		for i := 0; i < 3; i++ {
			if st, _ := c.State(i); st.OpNumber < n {
				return false, fmt.Sprintf("R%d %v in view %d with op-number %d", i, st.Status, st.View, st.OpNumber)
			}
		}
		return true, ""
	})
	if st, _ := c.State(p); st.CommitNumber != 0 {
		c.Fatalf("R%d committed op %d with every PREPAREOK lost", p, st.CommitNumber)
	}
	c.Undrop("no PREPAREOK")
	for _, pd := range pending {
		if _, err := pd.Wait(); err != nil {
			c.Fatalf("with the PREPAREOKs passing again: %v", err)
		}
	}
	c.WaitConverged(5 * time.Second)
	for i := 0; i < 3; i++ {
		if st, _ := c.State(i); st.CheckpointOpNumber != 2*checkpointEvery {
			c.Fatalf("R%d executed %d ops (in one batch) and its latest checkpoint is at op %d; expected op %d\n"+
				"(a checkpoint is due when %d ops were executed since the latest one: check after every op, not once per batch)",
				i, st.Executed, st.CheckpointOpNumber, 2*checkpointEvery, checkpointEvery)
		}
	}
}
