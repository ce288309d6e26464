// Package etcdraft runs the benchmark workload on go.etcd.io/raft/v3: a
// 3-replica group in one process, driven the canonical way (a classic
// synchronous Ready loop per replica over raft.MemoryStorage), connected by
// either an in-process loopback transport or a minimal TCP transport over
// 127.0.0.1. It is a system.Group, so the benchmark can compare it with the
// other replication libraries on the same workload. NewFailover's group,
// for the failover benchmark, takes that benchmark's timing instead of
// etcd's default ticks, and its leader can be killed (failover.go).
package etcdraft

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"vrlab/bench/system"
)

const (
	replicas = 3

	// etcd's default timing: a 100ms heartbeat and a 1s election timeout
	// (etcd server ticks every 100ms with heartbeat 1, election 10; the
	// finer tick here keeps the same times). New asks replica 1 to campaign
	// as soon as it can, so the first leader does not wait for a timeout.
	tickInterval  = 10 * time.Millisecond
	electionTick  = 100
	heartbeatTick = 10

	// maxSizePerMsg is etcd server's 1 MiB.
	maxSizePerMsg = 1 << 20
	// maxInflightMsgs is raft's README/raftexample value (etcd server itself
	// uses 4096/8 = 512).
	maxInflightMsgs = 256
	// maxUncommittedEntriesSize is what etcd server sets (1 GiB).
	maxUncommittedEntriesSize = 1 << 30

	// snapshotEvery and snapshotCatchUp keep MemoryStorage bounded in long
	// runs, like raftexample's snapshotCount / snapshotCatchUpEntriesN: every
	// snapshotEvery applied entries, snapshot the KV and drop the log up to
	// snapshotCatchUp entries before the applied index, so a slightly
	// lagging follower can still catch up from the log. Every system of the
	// benchmark snapshots every 10,000 entries (system.SnapshotEvery).
	snapshotEvery   = system.SnapshotEvery
	snapshotCatchUp = 5000

	// idSize is the request id prefixed to every proposal so the proposing
	// replica can hand the apply result back to the waiting Submit.
	idSize = 8

	// leaderTimeout bounds New's wait for the first election.
	leaderTimeout = 10 * time.Second
)

// ErrClosed is returned by Submit once Close has been called.
var ErrClosed = errors.New("etcdraft: group closed")

// ErrKilled is returned by a Submit whose proposal was at a replica the
// failover benchmark killed: it may or may not be applied.
var ErrKilled = errors.New("etcdraft: the leader was killed")

// group is a system.Group of three etcd raft replicas.
type group struct {
	reps []*replica // reps[i] has raft ID i+1
	tr   transport

	leader atomic.Int32 // index in reps of the last known leader
	nextID atomic.Uint64

	messages  atomic.Int64
	wireBytes atomic.Int64

	snapEvery, catchUp uint64 // compaction thresholds, see snapshotEvery

	// electionTick and heartbeatTick are raft.Config's, in ticks of
	// tickInterval: etcd's defaults (electionTick, heartbeatTick), or the
	// failover benchmark's timing (failover.go).
	electionTick, heartbeatTick int

	readOnly raft.ReadOnlyOption // how ReadIndex confirms leadership
	reads    chan *readReq       // Read's requests, batched by readLoop

	ctx    context.Context // canceled by Close; bounds transport Steps
	cancel context.CancelFunc
	stop   chan struct{} // closed by Close; stops the Ready loops
	loops  sync.WaitGroup
	closed sync.Once
}

// replica is one raft node with its storage, state machine and the
// Submits waiting for their proposals to apply.
type replica struct {
	g       *group
	id      uint64
	node    raft.Node
	storage *raft.MemoryStorage
	kv      *system.KV

	// leading is set from Ready.SoftState, so Submit finds the leader
	// without a round trip through node.Status().
	leading atomic.Bool
	// raftState is the raft.StateType of the last Ready.SoftState (the
	// failover benchmark's Electing).
	raftState atomic.Uint64

	// dead is closed when the failover benchmark kills this replica
	// (KillLeader): its Ready loop ends and the Submits waiting on it fail.
	dead     chan struct{}
	loopDone chan struct{} // closed when the Ready loop has returned
	killOnce sync.Once

	mu      sync.Mutex
	waiters map[uint64]chan []byte
	batches map[uint64]*readBatch // ReadIndex requests in flight, by request context

	// Owned by the Ready loop.
	confState     *raftpb.ConfState
	appliedIndex  uint64
	snapshotIndex uint64
	readable      []*readBatch // batches whose read index is known, waiting for it to apply
}

// transport carries messages between replicas.
type transport interface {
	// send is called from from's Ready loop, after the Ready's entries and
	// HardState are in storage. It must not block.
	send(from *replica, msgs []*raftpb.Message)
	// close releases the transport; the group's ctx is already canceled and
	// every node stopped. It waits for the transport's goroutines.
	close()
	// kill cuts replica r off, as if its process had died: nothing more
	// reaches it or leaves it (the failover benchmark).
	kill(r *replica)
}

// New starts a 3-replica go.etcd.io/raft/v3 group in this process, waits
// for a leader, and returns it. transport is "inmem" (in-process loopback)
// or "tcp" (one TCP connection per ordered pair over 127.0.0.1).
//
// Its reads (Read) use ReadIndex with raft's default ReadOnlySafe: the
// leader confirms its leadership with a round of heartbeats for each batch
// of reads.
func New(transport string) (system.Group, error) {
	g, err := newGroup(transport, snapshotEvery, snapshotCatchUp, raft.ReadOnlySafe, nil)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// NewLeaseBased is New with ReadOnlyLeaseBased reads: the leader answers a
// ReadIndex from its lease (CheckQuorum's election timeout), with no
// heartbeat round; like vrlab's leases, it depends on bounded clock drift.
func NewLeaseBased(transport string) (system.Group, error) {
	g, err := newGroup(transport, snapshotEvery, snapshotCatchUp, raft.ReadOnlyLeaseBased, nil)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// newGroup is New with the compaction thresholds and the read option as
// parameters, so tests can exercise snapshots without submitting tens of
// thousands of commands, and the failover benchmark's timing (nil: etcd's
// defaults).
func newGroup(transport string, snapEvery, catchUp uint64, readOnly raft.ReadOnlyOption, timing *system.Timing) (*group, error) {
	g := &group{stop: make(chan struct{}), snapEvery: snapEvery, catchUp: catchUp, readOnly: readOnly, reads: make(chan *readReq, 4096),
		electionTick: electionTick, heartbeatTick: heartbeatTick}
	if timing != nil {
		g.electionTick, g.heartbeatTick = failoverTicks(*timing)
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())

	peers := make([]raft.Peer, replicas)
	for i := range peers {
		peers[i] = raft.Peer{ID: uint64(i + 1)}
	}
	for i := range replicas {
		g.reps = append(g.reps, &replica{
			g:        g,
			id:       uint64(i + 1),
			storage:  raft.NewMemoryStorage(),
			kv:       system.NewKV(),
			waiters:  map[uint64]chan []byte{},
			batches:  map[uint64]*readBatch{},
			dead:     make(chan struct{}),
			loopDone: make(chan struct{}),
		})
	}

	switch transport {
	case "inmem":
		g.tr = newInmem(g)
	case "tcp":
		tr, err := newTCP(g)
		if err != nil {
			g.cancel()
			return nil, err
		}
		g.tr = tr
	default:
		g.cancel()
		return nil, fmt.Errorf("etcdraft: unknown transport %q (want inmem or tcp)", transport)
	}

	logger := quietLogger{&raft.DefaultLogger{Logger: log.New(os.Stderr, "etcdraft: ", log.LstdFlags)}}
	for _, r := range g.reps {
		r.node = raft.StartNode(&raft.Config{
			ID:                        r.id,
			ElectionTick:              g.electionTick,
			HeartbeatTick:             g.heartbeatTick,
			Storage:                   r.storage,
			MaxSizePerMsg:             maxSizePerMsg,
			MaxInflightMsgs:           maxInflightMsgs,
			MaxUncommittedEntriesSize: maxUncommittedEntriesSize,
			CheckQuorum:               true,
			PreVote:                   true,
			ReadOnlyOption:            readOnly,
			Logger:                    logger,
		}, peers)
	}
	for _, r := range g.reps {
		g.loops.Add(1)
		go r.run()
	}
	g.loops.Add(1)
	go g.readLoop()

	deadline := time.Now().Add(leaderTimeout)
	for i := 1; g.findLeader() == nil; i++ {
		if i%5 == 0 {
			// Campaign can start only once the bootstrap configuration is
			// applied (a tick or two); until then raft refuses it.
			g.reps[0].node.Campaign(g.ctx)
		}
		if time.Now().After(deadline) {
			g.Close()
			return nil, fmt.Errorf("etcdraft: no leader elected within %v", leaderTimeout)
		}
		time.Sleep(tickInterval)
	}
	return g, nil
}

// run is the replica's Ready loop, in the order raft's README prescribes:
// persist (to MemoryStorage), send, apply, Advance.
func (r *replica) run() {
	defer r.g.loops.Done()
	defer close(r.loopDone)
	ticker := time.NewTicker(tickInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			r.node.Tick()
		case rd := <-r.node.Ready():
			if rd.SoftState != nil {
				r.leading.Store(rd.SoftState.RaftState == raft.StateLeader)
				r.raftState.Store(uint64(rd.SoftState.RaftState))
			}
			if !raft.IsEmptySnap(rd.Snapshot) {
				if err := r.storage.ApplySnapshot(rd.Snapshot); err != nil {
					panic(fmt.Sprintf("etcdraft: replica %d: apply snapshot: %v", r.id, err))
				}
			}
			if !raft.IsEmptyHardState(rd.HardState) {
				if err := r.storage.SetHardState(rd.HardState); err != nil {
					panic(fmt.Sprintf("etcdraft: replica %d: set hard state: %v", r.id, err))
				}
			}
			if err := r.storage.Append(rd.Entries); err != nil {
				panic(fmt.Sprintf("etcdraft: replica %d: append: %v", r.id, err))
			}
			if n := r.peerMessages(rd.Messages); n > 0 {
				r.g.messages.Add(int64(n))
				r.g.tr.send(r, rd.Messages)
			}
			if !raft.IsEmptySnap(rd.Snapshot) {
				r.restore(rd.Snapshot)
			}
			r.apply(rd.CommittedEntries)
			r.readStates(rd.ReadStates)
			r.serveReads()
			r.maybeSnapshot()
			r.node.Advance()
		case <-r.g.stop:
			return
		case <-r.dead:
			return
		}
	}
}

// peerMessages counts the messages addressed to other replicas. In the
// synchronous Ready mode that is all of them, but check rather than assume.
func (r *replica) peerMessages(msgs []*raftpb.Message) int {
	n := 0
	for _, m := range msgs {
		if to := m.GetTo(); to != r.id && to >= 1 && to <= replicas {
			n++
		}
	}
	return n
}

// restore replaces the state machine with a snapshot received from the
// leader. Waiters for entries it covers never fire; their ctx bounds them.
func (r *replica) restore(snap *raftpb.Snapshot) {
	md := snap.GetMetadata()
	if md.GetIndex() <= r.appliedIndex {
		return
	}
	r.kv.Restore(snap.GetData())
	r.confState = md.GetConfState()
	r.appliedIndex = md.GetIndex()
	r.snapshotIndex = md.GetIndex()
}

// apply runs committed entries through the KV and hands each result to the
// Submit waiting on this replica, if any.
func (r *replica) apply(ents []*raftpb.Entry) {
	for _, e := range ents {
		if e.GetIndex() <= r.appliedIndex {
			continue // already covered by a snapshot
		}
		switch e.GetType() {
		case raftpb.EntryNormal:
			data := e.GetData()
			if len(data) < idSize {
				break // the empty entry a new leader appends
			}
			res := r.kv.Apply(data[idSize:])
			id := binary.LittleEndian.Uint64(data)
			r.mu.Lock()
			ch, ok := r.waiters[id]
			delete(r.waiters, id)
			r.mu.Unlock()
			if ok {
				ch <- res // buffered: never blocks
			}
		case raftpb.EntryConfChange:
			var cc raftpb.ConfChange
			if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
				panic(fmt.Sprintf("etcdraft: replica %d: conf change: %v", r.id, err))
			}
			r.confState = r.node.ApplyConfChange(&cc)
		case raftpb.EntryConfChangeV2:
			var cc raftpb.ConfChangeV2
			if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
				panic(fmt.Sprintf("etcdraft: replica %d: conf change: %v", r.id, err))
			}
			r.confState = r.node.ApplyConfChange(&cc)
		}
		r.appliedIndex = e.GetIndex()
	}
}

// maybeSnapshot compacts the log every snapshotEvery applied entries.
func (r *replica) maybeSnapshot() {
	if r.appliedIndex-r.snapshotIndex < r.g.snapEvery {
		return
	}
	if _, err := r.storage.CreateSnapshot(r.appliedIndex, r.confState, r.kv.Snapshot()); err != nil {
		panic(fmt.Sprintf("etcdraft: replica %d: create snapshot: %v", r.id, err))
	}
	if r.appliedIndex > r.g.catchUp {
		err := r.storage.Compact(r.appliedIndex - r.g.catchUp)
		if err != nil && !errors.Is(err, raft.ErrCompacted) {
			panic(fmt.Sprintf("etcdraft: replica %d: compact: %v", r.id, err))
		}
	}
	r.snapshotIndex = r.appliedIndex
}

// findLeader returns a replica that believes it leads, caching it, or nil.
// A killed replica does not lead.
func (g *group) findLeader() *replica {
	if r := g.reps[g.leader.Load()]; r.leading.Load() && !r.killed() {
		return r
	}
	for i, r := range g.reps {
		if r.leading.Load() && !r.killed() {
			g.leader.Store(int32(i))
			return r
		}
	}
	return nil
}

// Submit proposes cmd at the leader and waits for the leader to apply it.
func (g *group) Submit(ctx context.Context, cmd []byte) ([]byte, error) {
	res, _, err := g.SubmitBy(ctx, cmd)
	return res, err
}

// SubmitBy is Submit that also reports the leader that applied cmd (its
// index in reps; system.Failover).
func (g *group) SubmitBy(ctx context.Context, cmd []byte) ([]byte, int, error) {
	id := g.nextID.Add(1)
	data := make([]byte, idSize+len(cmd))
	binary.LittleEndian.PutUint64(data, id)
	copy(data[idSize:], cmd)
	ch := make(chan []byte, 1)

	for {
		r := g.findLeader()
		if r == nil {
			if err := g.pause(ctx); err != nil {
				return nil, -1, err
			}
			continue
		}
		// Register before proposing: the entry may apply before Propose
		// returns.
		r.mu.Lock()
		r.waiters[id] = ch
		r.mu.Unlock()
		err := r.node.Propose(ctx, data)
		if err == nil {
			res, err := r.wait(ctx, id, ch)
			return res, int(r.id - 1), err
		}
		r.forget(id)
		if errors.Is(err, raft.ErrStopped) && !r.killed() {
			return nil, -1, ErrClosed
		}
		if ctx.Err() != nil {
			return nil, -1, ctx.Err()
		}
		// Dropped (leader stepping down or transferring), or the replica
		// was killed before it took the proposal: nothing was appended, so
		// trying again cannot apply cmd twice.
		if err := g.pause(ctx); err != nil {
			return nil, -1, err
		}
	}
}

// wait waits for the proposal id to apply on r. If it is lost (leader
// change), only ctx or Close ends the wait.
func (r *replica) wait(ctx context.Context, id uint64, ch chan []byte) ([]byte, error) {
	select {
	case res := <-ch:
		return res, nil
	case <-ctx.Done():
		r.forget(id)
		return nil, ctx.Err()
	case <-r.g.stop:
		r.forget(id)
		return nil, ErrClosed
	case <-r.dead:
		r.forget(id)
		return nil, ErrKilled
	}
}

func (r *replica) forget(id uint64) {
	r.mu.Lock()
	delete(r.waiters, id)
	r.mu.Unlock()
}

// pause waits a little before looking for a leader again.
func (g *group) pause(ctx context.Context) error {
	t := time.NewTimer(time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stop:
		return ErrClosed
	}
}

// ---- reads: ReadIndex, batched as etcd's server batches them ----

// readReq is one Read waiting for its result.
type readReq struct {
	cmd []byte
	ch  chan []byte // buffered: a result is never blocked on
}

// readBatch is the reads that share one ReadIndex: once the leader has
// applied up to index, each is answered from its state.
type readBatch struct {
	reqs  []*readReq
	index uint64
	done  chan struct{}
}

// Read is a linearizable read: the request joins the next batch, the
// leader's ReadIndex gives the batch a commit index (ReadOnlySafe: after a
// heartbeat round confirms the leadership; ReadOnlyLeaseBased: at once),
// and once the leader has applied that index, it reads its own state.
func (g *group) Read(ctx context.Context, cmd []byte) ([]byte, error) {
	req := &readReq{cmd: cmd, ch: make(chan []byte, 1)}
	select {
	case g.reads <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-g.stop:
		return nil, ErrClosed
	}
	select {
	case res := <-req.ch:
		return res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-g.stop:
		return nil, ErrClosed
	}
}

// readLoop takes the reads waiting, asks the leader for one read index for
// all of them, and waits until they are answered (or tries again at a new
// leader) before the next batch, as etcd's linearizable read loop does.
func (g *group) readLoop() {
	defer g.loops.Done()
	for {
		var reqs []*readReq
		select {
		case req := <-g.reads:
			reqs = append(reqs, req)
		case <-g.stop:
			return
		}
	more:
		for {
			select {
			case req := <-g.reads:
				reqs = append(reqs, req)
			default:
				break more
			}
		}
		for !g.readBatch(reqs) {
			if g.pause(g.ctx) != nil {
				return
			}
		}
	}
}

// readBatch asks the leader for a read index for reqs and waits until they
// are answered; false means try again (no leader, or the request was lost).
func (g *group) readBatch(reqs []*readReq) bool {
	r := g.findLeader()
	if r == nil {
		return false
	}
	id := g.nextID.Add(1)
	b := &readBatch{reqs: reqs, done: make(chan struct{})}
	r.mu.Lock()
	r.batches[id] = b
	r.mu.Unlock()
	if err := r.node.ReadIndex(g.ctx, binary.LittleEndian.AppendUint64(nil, id)); err != nil {
		r.forgetBatch(id)
		return false
	}
	t := time.NewTimer(readIndexWait)
	defer t.Stop()
	select {
	case <-b.done:
		return true
	case <-t.C:
		r.forgetBatch(id)
		return false
	case <-g.stop:
		return true
	}
}

// readIndexWait bounds the wait for a read index before asking again (a
// leader that lost its leadership drops the request).
const readIndexWait = 200 * time.Millisecond

func (r *replica) forgetBatch(id uint64) {
	r.mu.Lock()
	delete(r.batches, id)
	r.mu.Unlock()
}

// readStates takes the read indexes raft granted (in the Ready loop).
func (r *replica) readStates(states []raft.ReadState) {
	for _, rs := range states {
		if len(rs.RequestCtx) != 8 {
			continue
		}
		id := binary.LittleEndian.Uint64(rs.RequestCtx)
		r.mu.Lock()
		b := r.batches[id]
		delete(r.batches, id)
		r.mu.Unlock()
		if b != nil {
			b.index = rs.Index
			r.readable = append(r.readable, b)
		}
	}
}

// serveReads answers the batches whose read index has been applied (in the
// Ready loop, between applies: each reads a state at or after its index).
func (r *replica) serveReads() {
	keep := r.readable[:0]
	for _, b := range r.readable {
		if b.index > r.appliedIndex {
			keep = append(keep, b)
			continue
		}
		for _, req := range b.reqs {
			select {
			case req.ch <- r.kv.Read(req.cmd):
			default: // answered already, by an earlier batch that was given up on
			}
		}
		close(b.done)
	}
	clear(r.readable[len(keep):])
	r.readable = keep
}

// Counters reports the messages sent between replicas and, for tcp, the
// bytes written on their connections.
func (g *group) Counters() system.Counters {
	return system.Counters{Messages: g.messages.Load(), WireBytes: g.wireBytes.Load()}
}

// Close stops the Ready loops, the nodes and the transport, and waits for
// all their goroutines.
func (g *group) Close() {
	g.closed.Do(func() {
		close(g.stop)
		g.loops.Wait()
		for _, r := range g.reps {
			if r.node != nil {
				r.node.Stop()
			}
		}
		g.cancel()
		g.tr.close()
	})
}

// quietLogger drops raft's info and debug lines (elections, truncations)
// so they do not interleave with benchmark output; warnings and errors
// still go to stderr.
type quietLogger struct{ *raft.DefaultLogger }

func (quietLogger) Info(...any)           {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Debug(...any)          {}
func (quietLogger) Debugf(string, ...any) {}
