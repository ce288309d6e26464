package vr

import (
	"errors"
	"fmt"
	"math/rand"
)

// Replica is the deterministic VR protocol state machine of one replica.
// Drive it with Step and Tick; take what it sends with Outbox.
type Replica struct {
	id     int          // this replica's number: its index in the peers
	config []int        // the replica numbers of this epoch's group, in order
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

	// Reconfiguration (reconfig.go, part E).
	epochStart       int    // op-number of the RECONFIGURATION that began this epoch (0 in epoch 0)
	epochStartView   int    // the view of the epoch before in which that op was executed
	oldConfig        []int  // the previous epoch's configuration (nil in epoch 0)
	retired          bool   // left the configuration (State.Retired)
	epochStarted     []bool // leaving replica: by replica, EPOCHSTARTED received
	epochStartedSent bool   // new member: EPOCHSTARTED sent for this epoch
	epochAskedAt     int    // tick at which a newer epoch's sender was last asked about it
	viewStartOp      int    // op-number when this replica last became normal: a primary's inherited log ends here
	lostState        bool   // this life began recovering and has not been normal since, or only with a RECONFIGURATION pending: it enters a newer epoch by recovery

	// Timers, in ticks.
	now        int // ticks since start
	idleTicks  int // primary: ticks since it last sent to the backups
	commitSent int // primary: the commit-number the backups were last told
	// silentTicks counts the ticks since this replica's view last made
	// progress: a PREPARE or COMMIT from the primary it is normal under, or
	// the start of its view change. View-change messages for the view it is
	// already changing to do not reset it: a view change whose new primary
	// is dead must time out and move on.
	silentTicks int
	// stalledTicks counts the ticks a backup has held ops beyond its
	// commit-number without the commit-number moving: a primary that
	// reaches the backups but hears none of them (a one-way link failure)
	// keeps silentTicks at 0 and commits nothing (normal.go, tickBackup).
	stalledTicks      int
	viewChangeTimeout int // T when normal; T..2T-1 in a view change (resetViewChangeTimer)
	resendTicks       int // ticks since a stalled sub-protocol last resent
	failedViewChanges int // view changes in a row abandoned on timeout

	// Primary: the highest op each replica acknowledged in this view.
	acked   []int
	scratch []int // advanceCommit's, reused
	// Primary (batch.go): the highest op sent in a PREPARE in this view,
	// and the bytes of the ops after it, held back while others are in flight.
	prepared  int
	heldBytes int

	// View change: what this replica has heard for its current view.
	startViewChanges []bool     // by replica: STARTVIEWCHANGE for r.view received
	doViewChanges    []*Message // by replica: DOVIEWCHANGE for r.view received
	doViewChangeSent bool
	// By replica: the committed point it gave for a view in its
	// STARTVIEWCHANGE or DOVIEWCHANGE, so that the view change need not send
	// it those ops (trimDoViewChange, startViewMessage).
	committedHeard []heardCommitted

	// State transfer: the view being caught up to.
	stateTransferView int
	stateTransferTry  int // which replica to ask next
	getStateSent      bool
	getStateAt        int // tick of the last GETSTATE for a gap

	// Recovery.
	nonce             uint64
	recoveryResponses []*Message // by replica, for the current nonce

	// Leases (Part F, lease.go), in ticks of this replica's clock.
	leaseUntil   []int // primary: by backup, the tick its latest grant holds until (exclusive)
	promiseUntil int   // backup: no view change before this tick (the promise of its grants)

	outbox  []Message
	logf    func(topic, format string, args ...any)
	logging bool // SetLogger was called: only then do the per-op paths box their log arguments
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
	if opts.CheckpointEvery < 0 || opts.HeartbeatTicks < 0 || opts.ViewChangeTicks < 0 || opts.MaxBatchOps < 0 || opts.MaxBatchBytes < 0 {
		return nil, errors.New("vr: negative CheckpointEvery, HeartbeatTicks, ViewChangeTicks, MaxBatchOps or MaxBatchBytes")
	}
	config, err := makeConfig(npeers, opts.Members)
	if err != nil {
		return nil, err
	}
	if opts.HeartbeatTicks == 0 {
		opts.HeartbeatTicks = DefaultHeartbeatTicks
	}
	if opts.ViewChangeTicks == 0 {
		opts.ViewChangeTicks = DefaultViewChangeTicks
	}
	if opts.MaxBatchOps == 0 {
		opts.MaxBatchOps = DefaultMaxBatchOps
	}
	if opts.MaxBatchBytes == 0 {
		opts.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if opts.HeartbeatTicks >= opts.ViewChangeTicks {
		return nil, fmt.Errorf("vr: HeartbeatTicks %d must be below ViewChangeTicks %d", opts.HeartbeatTicks, opts.ViewChangeTicks)
	}
	if err := checkLeaseOptions(opts); err != nil { // Part F (lease.go)
		return nil, err
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
		epochStarted:      make([]bool, npeers),
		startViewChanges:  make([]bool, npeers),
		doViewChanges:     make([]*Message, npeers),
		committedHeard:    make([]heardCommitted, npeers),
		recoveryResponses: make([]*Message, npeers),
		logf:              func(string, string, ...any) {},
	}
	r.resetViewChangeTimer()
	r.startLeases() // Part F (lease.go)
	switch {
	case opts.Recovering:
		r.status = Recovering
		r.lostState = true
		r.startRecovery()
	case !contains(config, id):
		r.status = Standby // until a STARTEPOCH names it (part E)
	}
	return r, nil
}

// makeConfig is the epoch-0 configuration: members, or every peer.
func makeConfig(npeers int, members []int) ([]int, error) {
	if members == nil {
		config := make([]int, npeers)
		for i := range config {
			config[i] = i
		}
		return config, nil
	}
	if err := checkMembers(members, npeers); err != nil {
		return nil, err
	}
	return append([]int(nil), members...), nil
}

// SetLogger routes the replica's debug events to logf (see debug.go).
func (r *Replica) SetLogger(logf func(topic, format string, args ...any)) {
	if logf != nil {
		r.logf, r.logging = logf, true
	}
}

// Outbox returns the messages emitted since the last call and empties it.
func (r *Replica) Outbox() []Message {
	out := r.outbox
	r.outbox = nil
	return out
}

// SwapOutbox is Outbox for a caller that sends on every step: it returns
// the messages emitted since the last call and makes spare, emptied, the
// outbox, so that a caller that hands back the slice it was given last
// time (cleared) reuses two buffers instead of growing a new one per step.
func (r *Replica) SwapOutbox(spare []Message) []Message {
	out := r.outbox
	r.outbox = spare[:0]
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
		Members:            append([]int(nil), r.config...),
		EpochStart:         r.epochStart,
		Retired:            r.retired,
	}
}

// Step processes one incoming message. A malformed message is rejected with
// an error and changes nothing.
func (r *Replica) Step(m Message) error {
	if err := r.validate(m); err != nil {
		return err
	}
	if m.Type != MsgRequest && m.Type != MsgReconfiguration && !r.checkEpoch(m) {
		return nil
	}
	//lab:begin C
	if r.status == Recovering && m.Type != MsgRecoveryResponse && m.Type != MsgNewEpoch {
		return nil // a recovering replica takes part in nothing (§4 [fix])
	}
	//lab:end
	if !r.takesPart(m) {
		return nil
	}
	switch m.Type {
	case MsgRequest:
		r.onRequest(m)
	case MsgReconfiguration:
		r.onReconfiguration(m)
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
		if m.Members != nil {
			r.onJoinGetState(m)
		} else {
			r.onGetState(m)
		}
	case MsgNewState:
		if r.status == Transitioning {
			r.onJoinNewState(m)
		} else if m.Members == nil { // an answer to a joining member's GETSTATE is for a joining member only
			r.onNewState(m)
		}
	case MsgRecovery:
		r.onRecovery(m)
	case MsgRecoveryResponse:
		r.onRecoveryResponse(m)
	case MsgStartEpoch:
		r.onStartEpoch(m)
	case MsgEpochStarted:
		r.onEpochStarted(m)
	case MsgNewEpoch:
		r.onNewEpoch(m)
	case MsgCommitOK:
		r.onCommitOK(m) // Part F (lease.go)
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
	case Transitioning:
		r.tickTransitioning()
	}
	r.checkInvariants()
}

// ---- helpers shared by every sub-protocol ----

// primaryOf is the primary of view v: no election, every replica computes it.
func (r *Replica) primaryOf(v int) int { return r.config[v%len(r.config)] }

func (r *Replica) isPrimary() bool { return r.primaryOf(r.view) == r.id }

// send queues m for replica to.
func (r *Replica) send(to int, m Message) {
	m.From, m.To, m.Epoch = r.id, to, r.epoch
	r.stampLease(&m) // Part F (lease.go): a primary's PREPARE, COMMIT and STARTVIEW carry its tick
	if r.logging {
		r.logf("send", "%v", m)
	}
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

// broadcastAll sends m to every other peer, members or not: a recovering
// replica may not know its epoch's configuration.
func (r *Replica) broadcastAll(m Message) {
	for p := range r.acked {
		if p != r.id {
			r.send(p, m)
		}
	}
}

// reply queues a message for a client.
func (r *Replica) reply(m Message) {
	m.From, m.To, m.Epoch = r.id, ToClient, r.epoch
	if r.logging {
		r.logf("client", "%v", m)
	}
	r.outbox = append(r.outbox, m)
}

// resetViewChangeTimer restarts the view-change timer. A normal replica
// waits exactly T ticks for a silent primary: the next primary is fixed by
// the view number, so backups that time out together all start the same
// view change and agree, where Raft's simultaneous candidates would split
// the vote and must draw their timeouts at random (VR-PROTOCOL.md §3
// [choice]). A view change that does not finish is abandoned after a
// random timeout in [T, 2T), which spreads a stalled group's moves to the
// next view over time rather than onto one tick.
//
// After view changes that failed one after another the timeout doubles (up
// to 8×): when messages are slower than the timeout allows, fixed timeouts
// would abandon every view change before it can finish.
func (r *Replica) resetViewChangeTimer() {
	r.silentTicks = 0
	r.stalledTicks = 0
	r.resendTicks = 0
	t := r.opts.ViewChangeTicks << min(r.failedViewChanges, maxBackoff)
	r.viewChangeTimeout = t
	if r.status != Normal {
		r.viewChangeTimeout += r.rand.Intn(t)
	}
}

// maxBackoff caps the doubling of the view-change timeout: 2^3 = 8×.
const maxBackoff = 3
