package vr

import (
	"errors"
	"fmt"
	"math/rand"
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
// without changing state (fast reads; a later issue).
type Reader interface {
	Read(op []byte) []byte
}

// Status is a replica's protocol status (paper Figure 2, plus the
// state-transfer status of the VR-PROTOCOL.md §6 fix).
type Status int

const (
	Normal Status = iota
	ViewChange
	Recovering
	StateTransfer
	Transitioning
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
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Default timing, in ticks. With the Node's 10 ms tick: a heartbeat every
// 100 ms, and a view change after 300–600 ms without hearing the primary.
const (
	DefaultHeartbeatTicks  = 10
	DefaultViewChangeTicks = 30
)

// Options configures a replica. The zero value is a fresh replica of a
// cluster made of all peers, without checkpoints, with default timing.
type Options struct {
	Recovering      bool  // restarted after a crash: run the recovery protocol first (Part C)
	CheckpointEvery int   // checkpoint every this many committed ops; 0 = never (Part D)
	Members         []int // initial configuration, indexes into peers; nil = all peers
	Seed            int64 // seeds timers and nonces; 0 = random (chosen by the runtime)

	HeartbeatTicks  int // primary: send COMMIT after this many idle ticks
	ViewChangeTicks int // backup: start a view change after T..2T-1 ticks without the primary
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
	Executed               int // op-number of the last op applied to the StateMachine
}

// Replica is the deterministic VR protocol state machine of one replica.
// Drive it with Step and Tick; take what it sends with Outbox.
type Replica struct {
	id     int          // this replica's number: its index in the peers
	config []int        // the replica numbers of the group, in order
	quorum int          // f+1: a majority of the configuration
	sm     StateMachine // the service
	opts   Options
	rand   *rand.Rand // seeded: timers and nonces

	// Paper Figure 2.
	epoch          int
	view           int
	status         Status
	lastNormalView int
	opNumber       int
	commitNumber   int
	log            []Entry // log[i] holds op logStart+1+i
	logStart       int     // op-number before the first entry held (the checkpoint's)
	clients        clientTable

	executed   int         // op-number of the last op applied to sm
	checkpoint *Checkpoint // latest checkpoint; nil before the first (part D)

	// Timers, in ticks.
	now               int // ticks since start
	idleTicks         int // primary: ticks since it last sent to the backups
	commitSent        int // primary: the commit-number the backups were last told
	silentTicks       int // ticks since the primary (or view change) showed progress
	viewChangeTimeout int // randomised per replica: T..2T-1
	resendTicks       int // ticks since a stalled sub-protocol last resent
	failedViewChanges int // view changes in a row abandoned on timeout

	// Primary: the highest op each replica acknowledged in this view.
	acked []int

	// View change: what this replica has heard for its current view.
	startViewChanges []bool     // by replica: STARTVIEWCHANGE for r.view received
	doViewChanges    []*Message // by replica: DOVIEWCHANGE for r.view received
	doViewChangeSent bool

	// State transfer: the view being caught up to.
	stateTransferView int
	stateTransferTry  int // which replica to ask next
	getStateSent      bool
	getStateAt        int // tick of the last GETSTATE for a gap

	// Recovery.
	nonce             uint64
	recoveryResponses []*Message // by replica, for the current nonce

	outbox []Message
	logf   func(topic, format string, args ...any)
}

// NewReplica makes replica id of a group of npeers peers. It returns an error
// for a configuration that cannot work; it never panics on bad input.
func NewReplica(id, npeers int, sm StateMachine, opts Options) (*Replica, error) {
	if npeers < 1 {
		return nil, fmt.Errorf("vr: %d peers; need at least 1", npeers)
	}
	if id < 0 || id >= npeers {
		return nil, fmt.Errorf("vr: replica id %d out of range [0,%d)", id, npeers)
	}
	if sm == nil {
		return nil, errors.New("vr: nil StateMachine")
	}
	if opts.CheckpointEvery < 0 || opts.HeartbeatTicks < 0 || opts.ViewChangeTicks < 0 {
		return nil, errors.New("vr: negative CheckpointEvery, HeartbeatTicks or ViewChangeTicks")
	}
	config, err := makeConfig(id, npeers, opts.Members)
	if err != nil {
		return nil, err
	}
	if opts.HeartbeatTicks == 0 {
		opts.HeartbeatTicks = DefaultHeartbeatTicks
	}
	if opts.ViewChangeTicks == 0 {
		opts.ViewChangeTicks = DefaultViewChangeTicks
	}
	if opts.HeartbeatTicks >= opts.ViewChangeTicks {
		return nil, fmt.Errorf("vr: HeartbeatTicks %d must be below ViewChangeTicks %d", opts.HeartbeatTicks, opts.ViewChangeTicks)
	}
	r := &Replica{
		id:     id,
		config: config,
		quorum: len(config)/2 + 1,
		sm:     sm,
		opts:   opts,
		rand:   rand.New(rand.NewSource(opts.Seed)),
		clients: clientTable{
			executed: map[int64]ClientRecord{},
			pending:  map[int64]int{},
		},
		acked:             make([]int, npeers),
		startViewChanges:  make([]bool, npeers),
		doViewChanges:     make([]*Message, npeers),
		recoveryResponses: make([]*Message, npeers),
		logf:              func(string, string, ...any) {},
	}
	r.resetViewChangeTimer()
	if opts.Recovering {
		r.status = Recovering
		r.startRecovery()
	}
	return r, nil
}

func makeConfig(id, npeers int, members []int) ([]int, error) {
	if members == nil {
		config := make([]int, npeers)
		for i := range config {
			config[i] = i
		}
		return config, nil
	}
	seen := map[int]bool{}
	for _, m := range members {
		if m < 0 || m >= npeers {
			return nil, fmt.Errorf("vr: member %d out of range [0,%d)", m, npeers)
		}
		if seen[m] {
			return nil, fmt.Errorf("vr: member %d listed twice", m)
		}
		seen[m] = true
	}
	if !seen[id] {
		return nil, fmt.Errorf("vr: replica %d is not in the configuration %v", id, members)
	}
	return append([]int(nil), members...), nil
}

// SetLogger routes the replica's debug events to logf (see debug.go).
func (r *Replica) SetLogger(logf func(topic, format string, args ...any)) {
	if logf != nil {
		r.logf = logf
	}
}

// Outbox returns the messages emitted since the last call and empties it.
func (r *Replica) Outbox() []Message {
	out := r.outbox
	r.outbox = nil
	return out
}

// State reports the replica's state.
func (r *Replica) State() State {
	cp := 0
	if r.checkpoint != nil {
		cp = r.checkpoint.OpNumber
	}
	return State{
		Epoch:              r.epoch,
		View:               r.view,
		Status:             r.status,
		IsPrimary:          r.status == Normal && r.isPrimary(),
		OpNumber:           r.opNumber,
		CommitNumber:       r.commitNumber,
		CheckpointOpNumber: cp,
		LogLen:             len(r.log),
		LastNormalView:     r.lastNormalView,
		Executed:           r.executed,
	}
}

// Step processes one incoming message. A malformed message is rejected with
// an error and changes nothing.
func (r *Replica) Step(m Message) error {
	if err := r.validate(m); err != nil {
		return err
	}
	//lab:begin C
	if r.status == Recovering && m.Type != MsgRecoveryResponse && !mutation(mutRecoveringVotes) { // mutation: §9.5
		return nil // a recovering replica takes part in nothing (§4 [fix])
	}
	//lab:end
	switch m.Type {
	case MsgRequest:
		r.onRequest(m)
	case MsgPrepare:
		r.onPrepare(m)
	case MsgPrepareOK:
		r.onPrepareOK(m)
	case MsgCommit:
		r.onCommit(m)
	case MsgStartViewChange:
		r.onStartViewChange(m)
	case MsgDoViewChange:
		r.onDoViewChange(m)
	case MsgStartView:
		r.onStartView(m)
	case MsgGetState:
		r.onGetState(m)
	case MsgNewState:
		r.onNewState(m)
	case MsgRecovery:
		r.onRecovery(m)
	case MsgRecoveryResponse:
		r.onRecoveryResponse(m)
	}
	r.checkInvariants()
	return nil
}

// Tick advances the replica's clock by one tick.
func (r *Replica) Tick() {
	r.now++
	switch r.status {
	case Normal:
		if r.isPrimary() {
			r.tickPrimary()
		} else {
			r.tickBackup()
		}
	case ViewChange:
		r.tickViewChange()
	case StateTransfer:
		r.tickStateTransfer()
	case Recovering:
		r.tickRecovery()
	}
	r.checkInvariants()
}

// validate rejects messages no correct peer sends. Types a replica never
// receives (REPLY, NOTPRIMARY) are rejected too.
func (r *Replica) validate(m Message) error {
	switch {
	case m.Type < MsgRequest || m.Type > MsgRecoveryResponse || m.Type == MsgReply || m.Type == MsgNotPrimary:
		return fmt.Errorf("vr: replica %d: unexpected message type %v", r.id, m.Type)
	case m.Type != MsgRequest && (m.From < 0 || m.From >= len(r.acked)):
		return fmt.Errorf("vr: replica %d: %v from unknown replica %d", r.id, m.Type, m.From)
	case m.Type != MsgRequest && m.From == r.id:
		return fmt.Errorf("vr: replica %d: %v from itself", r.id, m.Type)
	case m.Type != MsgRequest && !r.inConfig(m.From):
		return fmt.Errorf("vr: replica %d: %v from replica %d, which is not in the configuration %v", r.id, m.Type, m.From, r.config)
	case outOfRange(m.View, m.OpNumber, m.CommitNumber, m.LastNormalView, m.LogStart, m.Epoch):
		return fmt.Errorf("vr: replica %d: %v with a number outside [0, %d]", r.id, m.Type, maxNumber)
	case m.LastNormalView > m.View:
		return fmt.Errorf("vr: replica %d: %v with last-normal-view %d above view %d", r.id, m.Type, m.LastNormalView, m.View)
	case m.Checkpoint != nil && m.Checkpoint.OpNumber != m.LogStart:
		return fmt.Errorf("vr: replica %d: %v with checkpoint %d not at log start %d", r.id, m.Type, m.Checkpoint.OpNumber, m.LogStart)
	}
	switch m.Type {
	case MsgPrepare, MsgDoViewChange, MsgStartView, MsgNewState, MsgRecoveryResponse:
		if m.Type == MsgRecoveryResponse && m.Entries == nil && m.LogStart == 0 && m.OpNumber == 0 {
			break // a backup's answer carries no log
		}
		if m.LogStart+len(m.Entries) != m.OpNumber {
			return fmt.Errorf("vr: replica %d: %v log (%d..%d] does not end at op-number %d", r.id, m.Type, m.LogStart, m.LogStart+len(m.Entries), m.OpNumber)
		}
	case MsgRequest:
		if m.RequestNum < 1 {
			return fmt.Errorf("vr: replica %d: REQUEST with request-number %d (must be ≥ 1)", r.id, m.RequestNum)
		}
	}
	return nil
}

// maxNumber bounds views and op-numbers in messages: far beyond any real
// run, and far enough from overflow that v+1 is always safe.
const maxNumber = 1 << 48

func outOfRange(xs ...int) bool {
	for _, x := range xs {
		if x < 0 || x > maxNumber {
			return true
		}
	}
	return false
}

// ---- helpers shared by every sub-protocol ----

// primaryOf is the primary of view v: no election, every replica computes it.
func (r *Replica) primaryOf(v int) int { return r.config[v%len(r.config)] }

func (r *Replica) isPrimary() bool { return r.primaryOf(r.view) == r.id }

// send queues m for replica to.
func (r *Replica) send(to int, m Message) {
	m.From, m.To, m.Epoch = r.id, to, r.epoch
	r.logf("send", "%v", m)
	r.outbox = append(r.outbox, m)
}

// broadcast sends m to every other replica of the configuration, in order.
func (r *Replica) broadcast(m Message) {
	for _, p := range r.config {
		if p != r.id {
			r.send(p, m)
		}
	}
}

// reply queues a message for a client.
func (r *Replica) reply(m Message) {
	m.From, m.To, m.Epoch = r.id, ToClient, r.epoch
	r.logf("client", "%v", m)
	r.outbox = append(r.outbox, m)
}

// resetViewChangeTimer restarts the view-change timer with a fresh random
// timeout in [T, 2T): randomising keeps replicas from moving in lockstep.
//
// After view changes that failed one after another the timeout doubles (up
// to 8×): when messages are slower than the timeout allows, fixed timeouts
// would abandon every view change before it can finish.
func (r *Replica) resetViewChangeTimer() {
	r.silentTicks = 0
	r.resendTicks = 0
	t := r.opts.ViewChangeTicks << min(r.failedViewChanges, maxBackoff)
	r.viewChangeTimeout = t + r.rand.Intn(t)
}

// maxBackoff caps the doubling of the view-change timeout: 2^3 = 8×.
const maxBackoff = 3

// entry returns the log entry of op-number op, which must be held.
func (r *Replica) entry(op int) Entry {
	r.assert(op > r.logStart && op <= r.opNumber, "op %d not in log (%d..%d]", op, r.logStart, r.opNumber)
	return r.log[op-r.logStart-1]
}

// logAfter returns a copy of the log entries after op-number op.
func (r *Replica) logAfter(op int) []Entry {
	if op < r.logStart {
		op = r.logStart
	}
	return append([]Entry(nil), r.log[op-r.logStart:]...)
}

// assert panics when an invariant of the replica's own state is broken: that
// is a bug in this code, never a consequence of bad input.
func (r *Replica) assert(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("vr: replica %d: invariant violated: %s", r.id, fmt.Sprintf(format, args...)))
	}
}

func (r *Replica) checkInvariants() {
	r.assert(r.opNumber == r.logStart+len(r.log), "op-number %d != log start %d + %d entries", r.opNumber, r.logStart, len(r.log))
	r.assert(r.executed <= r.opNumber && r.executed <= r.commitNumber, "executed %d beyond op-number %d or commit-number %d", r.executed, r.opNumber, r.commitNumber)
	r.assert(r.logStart <= r.executed, "log starts at %d after executed op %d", r.logStart, r.executed)
	r.assert(r.lastNormalView <= r.view, "last-normal-view %d above view %d", r.lastNormalView, r.view)
	r.assert(r.status != Normal || r.lastNormalView == r.view, "normal in view %d with last-normal-view %d", r.view, r.lastNormalView)
	r.assert(r.checkpoint == nil || r.checkpoint.OpNumber == r.logStart, "checkpoint at %d but log starts at %d", r.checkpointOp(), r.logStart)
}

func (r *Replica) checkpointOp() int {
	if r.checkpoint == nil {
		return 0
	}
	return r.checkpoint.OpNumber
}
