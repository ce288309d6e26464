package vr

// The types a service and a runtime use to run a Replica.

import (
	"fmt"
	"slices"
)

// StateMachine is the replicated service. VR calls it from one goroutine at a
// time, in op-number order, while holding its replica's lock: the service
// must not call back into its Node from these methods. A Snapshot's bytes and
// a Restore's argument are shared with messages in flight and must never be
// modified.
type StateMachine interface {
	Apply(op []byte) []byte  // execute one committed op, return its result
	Snapshot() []byte        // the service state, for a checkpoint
	Restore(snapshot []byte) // replace the service state with a checkpoint
}

// Reader is implemented by a StateMachine that can serve read-only ops
// without changing state: with Options.LeaseTicks > 0, a primary holding
// leases answers a read-only request (Client.Read) with Read, without
// putting it in the log (Part F, lease.go). Read must not change the
// state. Unlike Apply, it may be called from several goroutines at once
// (a Node serves lease reads side by side), though never while Apply,
// Snapshot or Restore runs. Without a lease, the same op goes through the
// log and Apply executes it.
type Reader interface {
	Read(op []byte) []byte
}

// Status is a replica's protocol status (paper Figure 2, plus the
// state-transfer status of the VR-PROTOCOL.md §6 fix, and the two statuses
// of reconfiguration, Part E).
type Status int

const (
	Normal Status = iota
	ViewChange
	Recovering
	StateTransfer
	// Transitioning: between epochs. A new member fetching the state up to
	// the epoch's start (it takes part in nothing until it has it), or a
	// leaving replica (Retired) serving that state until f'+1 new members
	// have it.
	Transitioning
	// Standby: outside its epoch's configuration with nothing to do: not yet
	// added, or removed (Retired) and done. It answers only what tells it of
	// a newer epoch.
	Standby
)

func (s Status) String() string {
	switch s {
	case Normal:
		return "normal"
	case ViewChange:
		return "view-change"
	case Recovering:
		return "recovering"
	case StateTransfer:
		return "state-transfer"
	case Transitioning:
		return "transitioning"
	case Standby:
		return "standby"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Default timing, in ticks. With the Node's 10 ms tick: a heartbeat every
// 100 ms, and a view change after 300 ms without hearing the primary (a view
// change that stalls is abandoned after 300–590 ms).
const (
	DefaultHeartbeatTicks  = 10
	DefaultViewChangeTicks = 30
)

// Options configures a replica. The zero value is a fresh replica of a
// cluster made of all peers, without checkpoints, with default timing.
type Options struct {
	Recovering      bool  // restarted after a crash: run the recovery protocol first (Part C)
	CheckpointEvery int   // checkpoint every this many committed ops; 0 = never (Part D)
	Members         []int // epoch-0 configuration, indexes into peers; nil = all peers. A replica outside it is a standby (Part E)
	Seed            int64 // seeds timers and nonces; 0 = random (chosen by the runtime)

	HeartbeatTicks  int // primary: send COMMIT after this many idle ticks
	ViewChangeTicks int // T: a backup starts a view change after T ticks without the primary; a stalled view change is abandoned after T..2T-1

	// Batching (batch.go): the most ops, and bytes of ops, one PREPARE
	// carries; 0 = DefaultMaxBatchOps / DefaultMaxBatchBytes. MaxBatchOps 1
	// turns batching off: every request is prepared at once, on its own.
	MaxBatchOps   int
	MaxBatchBytes int

	// Fast reads (Part F, lease.go): the lease length in ticks; 0 = off
	// (reads go through the log). It must be shorter than ViewChangeTicks:
	// NewReplica refuses a longer lease. With leases on, backups grant the
	// primary leases with their acknowledgements, and a primary holding f
	// of them serves reads (Client.Read) from its state, without a PREPARE.
	LeaseTicks int
}

// State is a consistent snapshot of a replica's protocol state, for tests
// and tools.
type State struct {
	Epoch, View            int
	Status                 Status
	IsPrimary              bool // Status == Normal and primary of View
	OpNumber, CommitNumber int
	CheckpointOpNumber     int // op-number covered by the latest checkpoint
	LogLen                 int // log entries held in memory
	LastNormalView         int
	Executed               int   // op-number of the last op applied to the StateMachine
	Members                []int // the configuration of this replica's epoch (Part E)
	EpochStart             int   // the op-number after which this epoch began: its RECONFIGURATION's (0 in epoch 0)
	// Retired: this replica left the configuration. While Transitioning it
	// serves state transfer to the new group until f'+1 EPOCHSTARTED, then it
	// is a Standby (Part E).
	Retired bool
}

// Equal reports whether two States are the same (State holds a slice, so ==
// does not compile).
func (s State) Equal(o State) bool {
	return slices.Equal(s.Members, o.Members) && s.comparable() == o.comparable()
}

// stateFields is State without its slice.
type stateFields struct {
	Epoch, View, OpNumber, CommitNumber, CheckpointOpNumber, LogLen int
	LastNormalView, Executed, EpochStart                            int
	Status                                                          Status
	IsPrimary, Retired                                              bool
}

func (s State) comparable() stateFields {
	return stateFields{s.Epoch, s.View, s.OpNumber, s.CommitNumber, s.CheckpointOpNumber, s.LogLen,
		s.LastNormalView, s.Executed, s.EpochStart, s.Status, s.IsPrimary, s.Retired}
}
