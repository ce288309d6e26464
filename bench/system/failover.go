package system

import (
	"context"
	"encoding/binary"
	"time"
)

// The failover benchmark (go run ./bench -failover): crash a group's leader
// under load and time how long until a new one commits. What it needs of a
// group beyond Group.

// Timing is the failure-detection timing every system of the failover
// benchmark gets: the leader's heartbeat interval, and the base of the
// randomized election (view-change) timeout a follower waits, without
// hearing from the leader, before it tries to replace it. Each library maps
// it onto its own knobs (BENCHMARKS.md, "Failover").
type Timing struct {
	Heartbeat time.Duration
	Election  time.Duration
}

// Ticks is d in ticks of tick, at least 1.
func Ticks(d, tick time.Duration) int { return max(1, int(d/tick)) }

// A Failover is a Group whose leader the benchmark can crash.
type Failover interface {
	Group
	// SubmitBy is Submit that also reports which replica (0, 1, 2) was the
	// leader that committed and applied cmd, when err is nil.
	SubmitBy(ctx context.Context, cmd []byte) (res []byte, replica int, err error)
	// KillLeader crashes the current leader, as if its process died: its
	// connections close, it sends and applies nothing more, and the
	// Submits waiting on it fail (the benchmark retries them). It returns
	// the replica killed.
	KillLeader() (int, error)
	// KV is replica i's state machine, for checking it after the run.
	KV(i int) *KV
	// Electing reports whether some replica that is not dead has begun to
	// replace the leader: it is a (pre-)candidate, or leads already. The
	// benchmark polls it after a kill to split the failover time into the
	// detection (the randomized timeout) and the election after it.
	Electing() bool
}

// Lookup returns the sequence number of the last command applied to key
// (the seq of Command(client, seq) that wrote it) and the key's version;
// ok is false if the key was never written.
func (kv *KV) Lookup(key [16]byte) (seq, version uint64, ok bool) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	e := kv.data[key]
	if e == nil || len(e.value) < 8 {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint64(e.value), e.version, true
}

// KeysPerClient is how many keys a client's commands write, in turn:
// Command(client, seq) writes key seq mod KeysPerClient.
const KeysPerClient = keysPerClient
