// Package hashiraft runs a 3-replica github.com/hashicorp/raft group inside
// this process as a system.Group, so the benchmark can compare it with the
// other replication libraries on the same workload and client path.
//
// Everything is in memory (log, stable store, snapshots); replicas talk
// either over real loopback TCP (hashicorp's NetworkTransport) or over
// hashicorp's InmemTransport. The configuration is hashicorp's defaults:
// no batching, pipelining or timing knob is tuned either way; only the
// snapshot policy is the benchmark's common one (config). NewFailover's
// group, for the failover benchmark, takes that benchmark's timing instead
// of the default timeouts, and its leader can be killed (failover.go).
package hashiraft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"vrlab/bench/system"
)

// replicas is the group size.
const replicas = 3

// electionWait bounds how long New waits for the first leader. With
// hashicorp's default 1 s heartbeat timeout the first election takes 1–3 s.
const electionWait = 15 * time.Second

// replica is one raft server and the state machine it drives.
type replica struct {
	id    int // index in group.replicas
	raft  *raft.Raft
	kv    *system.KV
	trans *countingTransport
	dead  chan struct{} // closed when the failover benchmark kills it
}

// group is the system.Group.
type group struct {
	replicas []*replica
	leader   atomic.Pointer[replica] // cached; nil when unknown
	counts   *counters
	streams  []*streamLayer // tcp only, by replica
	close    sync.Once
	// killable: a failover group (NewFailover), whose replicas KillLeader
	// may crash. It logs nothing (the survivors' errors about the dead
	// replica are expected), and Submit does not wait forever on the
	// Apply of a replica that was killed (waitApplied).
	killable bool
}

// counters are shared by every replica's transport and connection.
type counters struct {
	messages  atomic.Int64
	wireBytes atomic.Int64
}

// New starts a 3-replica hashicorp/raft group in this process, waits for a
// leader, and returns it. transport is "tcp" (NetworkTransport over real
// loopback TCP on 127.0.0.1) or "inmem" (InmemTransport, all-to-all).
func New(transport string) (system.Group, error) {
	g, err := newGroup(transport, nil)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// newGroup is New with the failover benchmark's timing (nil: hashicorp's
// defaults, as New uses).
func newGroup(transport string, timing *system.Timing) (*group, error) {
	g := &group{counts: &counters{}, killable: timing != nil}
	inner, err := g.transports(transport)
	if err != nil {
		return nil, err
	}

	servers := make([]raft.Server, replicas)
	for i, t := range inner {
		servers[i] = raft.Server{
			Suffrage: raft.Voter,
			ID:       serverID(i),
			Address:  t.LocalAddr(),
		}
	}
	bootstrap := raft.Configuration{Servers: servers}

	for i, t := range inner {
		rep := &replica{
			id:    i,
			dead:  make(chan struct{}),
			kv:    system.NewKV(),
			trans: &countingTransport{inner: t, counts: g.counts},
		}
		r, err := raft.NewRaft(g.config(i, timing), &fsm{kv: rep.kv}, raft.NewInmemStore(), raft.NewInmemStore(),
			raft.NewInmemSnapshotStore(), rep.trans)
		if err != nil {
			// The transports of replicas not yet started are not owned by
			// any raft: close them here.
			for _, t := range inner[i:] {
				_ = t.Close()
			}
			g.Close()
			return nil, fmt.Errorf("hashiraft: start replica %d: %w", i, err)
		}
		rep.raft = r
		g.replicas = append(g.replicas, rep)
	}
	// Every replica gets the same bootstrap configuration, which hashicorp
	// documents as safe; then no replica is special.
	for i, rep := range g.replicas {
		if err := rep.raft.BootstrapCluster(bootstrap).Error(); err != nil {
			g.Close()
			return nil, fmt.Errorf("hashiraft: bootstrap replica %d: %w", i, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), electionWait)
	defer cancel()
	if _, err := g.findLeader(ctx); err != nil {
		g.Close()
		return nil, fmt.Errorf("hashiraft: no leader after %v: %w", electionWait, err)
	}
	return g, nil
}

func serverID(i int) raft.ServerID { return raft.ServerID(fmt.Sprintf("r%d", i)) }

// config is hashicorp's DefaultConfig with an identity and a quiet logger.
// Timeouts are left at the defaults (1 s heartbeat/election, 500 ms lease)
// on purpose: hashicorp sends heartbeats every HeartbeatTimeout/10, so
// lowering the timeouts to speed up the first election would also multiply
// the steady-state heartbeat traffic that Counters reports. The failover
// benchmark passes its timing instead (failover.go: failoverConfig).
func (g *group) config(i int, timing *system.Timing) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = serverID(i)
	c.Logger = g.logger("raft")
	if timing != nil {
		failoverConfig(c, *timing)
	}
	// The benchmark's one snapshot policy (system.SnapshotEvery): a
	// snapshot every 10,000 entries, keeping 5,000 behind it for followers
	// that lag. hashicorp checks the threshold every SnapshotInterval (120 s
	// by default, longer than a run); check often enough to keep to it.
	c.SnapshotThreshold = system.SnapshotEvery
	c.SnapshotInterval = 200 * time.Millisecond
	c.TrailingLogs = system.SnapshotEvery / 2
	return c
}

func (g *group) logger(name string) hclog.Logger {
	if g.killable {
		return hclog.NewNullLogger()
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Error, Output: os.Stderr})
}

// transports builds the three unwrapped transports.
func (g *group) transports(kind string) ([]innerTransport, error) {
	ts := make([]innerTransport, replicas)
	switch kind {
	case "inmem":
		raw := make([]*raft.InmemTransport, replicas)
		for i := range raw {
			_, raw[i] = raft.NewInmemTransport("")
			ts[i] = raw[i]
		}
		// Connect the raw transports: InmemTransport.Connect needs the
		// concrete type, and raft itself never sees these calls.
		for _, a := range raw {
			for _, b := range raw {
				if a != b {
					a.Connect(b.LocalAddr(), b)
				}
			}
		}
	case "tcp":
		for i := range ts {
			s, err := listen(g.counts)
			if err != nil {
				for _, t := range ts[:i] {
					_ = t.Close()
				}
				return nil, err
			}
			g.streams = append(g.streams, s)
			// MaxPool 3 and a 10 s timeout are what raft.NewTCPTransport
			// users (Consul, Nomad) pass; MaxRPCsInFlight 0 keeps the
			// default pipelining depth.
			ts[i] = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
				Stream:  s,
				MaxPool: 3,
				Timeout: 10 * time.Second,
				Logger:  g.logger("raft-net"),
			})
		}
	default:
		return nil, fmt.Errorf("hashiraft: unknown transport %q (want tcp or inmem)", kind)
	}
	return ts, nil
}

// findLeader returns the replica that is leader now, polling until ctx ends.
func (g *group) findLeader(ctx context.Context) (*replica, error) {
	for {
		if l := g.leader.Load(); l != nil && l.raft.State() == raft.Leader {
			return l, nil
		}
		for _, rep := range g.replicas {
			if rep.raft.State() == raft.Leader {
				g.leader.Store(rep)
				return rep, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Submit applies cmd at the leader. A deadline on ctx bounds the leader
// search and hashicorp's enqueue timeout; once enqueued, hashicorp gives no
// way to abandon the wait, which ends when the entry is applied or the
// leader loses leadership or shuts down.
func (g *group) Submit(ctx context.Context, cmd []byte) ([]byte, error) {
	res, _, err := g.SubmitBy(ctx, cmd)
	return res, err
}

// SubmitBy is Submit that also reports the leader that applied cmd
// (system.Failover).
func (g *group) SubmitBy(ctx context.Context, cmd []byte) ([]byte, int, error) {
	for {
		l, err := g.findLeader(ctx)
		if err != nil {
			return nil, -1, err
		}
		var timeout time.Duration // 0: no enqueue timeout
		if d, ok := ctx.Deadline(); ok {
			if timeout = time.Until(d); timeout <= 0 {
				return nil, -1, context.DeadlineExceeded
			}
		}
		f := l.raft.Apply(cmd, timeout)
		if g.killable {
			err = waitApplied(ctx, l, f)
		} else {
			err = f.Error()
		}
		if err == nil {
			res, ok := f.Response().([]byte)
			if !ok {
				return nil, -1, fmt.Errorf("hashiraft: unexpected FSM response %T", f.Response())
			}
			return res, l.id, nil
		}
		if !errors.Is(err, raft.ErrNotLeader) && !errors.Is(err, raft.ErrLeadershipLost) {
			return nil, -1, err
		}
		// Leadership moved. ErrLeadershipLost means the entry may still
		// commit, so a retry can apply the command twice; the workload
		// tolerates that (the result is still a valid version).
		g.leader.CompareAndSwap(l, nil)
		if err := ctx.Err(); err != nil {
			return nil, -1, err
		}
	}
}

// Read is a linearizable read at the leader, hashicorp's way: note the
// commit index, confirm the leadership with a quorum (VerifyLeader: a
// round of heartbeats, which the reads waiting at the time share), wait
// until the leader has applied up to that index, and read its state.
// (AppliedIndex counts what the leader handed to its FSM.)
func (g *group) Read(ctx context.Context, cmd []byte) ([]byte, error) {
	for {
		l, err := g.findLeader(ctx)
		if err != nil {
			return nil, err
		}
		index := l.raft.CommitIndex()
		if err := l.raft.VerifyLeader().Error(); err != nil {
			if !errors.Is(err, raft.ErrNotLeader) && !errors.Is(err, raft.ErrLeadershipLost) {
				return nil, err
			}
			g.leader.CompareAndSwap(l, nil)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			continue
		}
		for l.raft.AppliedIndex() < index {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			runtime.Gosched()
		}
		return l.kv.Read(cmd), nil
	}
}

// Counters reports the replica-to-replica traffic so far.
func (g *group) Counters() system.Counters {
	return system.Counters{
		Messages:  g.counts.messages.Load(),
		WireBytes: g.counts.wireBytes.Load(),
	}
}

// Close shuts every replica down and then closes the TCP connections that
// NetworkTransport leaves open (its Close stops only the listener), which
// ends its per-connection goroutines. Dialled ends are closed first so the
// accepting handlers see a clean EOF instead of logging a read error.
func (g *group) Close() {
	g.close.Do(func() {
		var wg sync.WaitGroup
		for _, rep := range g.replicas {
			wg.Go(func() {
				// Shutdown's future waits for raft's goroutines and then
				// closes the transport (it implements raft.WithClose).
				_ = rep.raft.Shutdown().Error()
			})
		}
		wg.Wait()
		for _, s := range g.streams {
			_ = s.Close()
			s.closeConns()
		}
		// Give the peers' handlers a moment to see EOF and close their
		// ends, then close anything left.
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			n := 0
			for _, s := range g.streams {
				n += s.open()
			}
			if n == 0 {
				break
			}
		}
		for _, s := range g.streams {
			s.closeAll()
		}
	})
}

// fsm adapts a system.KV to raft.FSM.
type fsm struct {
	kv *system.KV
}

// Apply is called for committed entries, in order, from one goroutine.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	return f.kv.Apply(l.Data)
}

// Snapshot encodes the state now, on the FSM goroutine, because Persist
// runs concurrently with later Applies.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	return &snapshot{data: f.kv.Snapshot()}, nil
}

func (f *fsm) Restore(rc io.ReadCloser) error {
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	f.kv.Restore(b)
	return nil
}

type snapshot struct {
	data []byte
}

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.data); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *snapshot) Release() { s.data = nil }
