package main

// The failover benchmark (-failover): for each system, over and over, start
// a fresh 3-replica group whose replicas talk over loopback TCP, put it under
// a steady closed-loop write load, crash its leader, and time how long until
// a new leader commits a command; then check that no write whose Submit
// succeeded is missing from the surviving replicas. See BENCHMARKS.md,
// "Failover".

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"vrlab/bench/etcdraft"
	"vrlab/bench/hashiraft"
	"vrlab/bench/system"
	"vrlab/vr"
	"vrlab/vrnet"
)

const (
	// failoverClients is the steady load: closed-loop clients, each with
	// one write outstanding.
	failoverClients = 16
	// afterRecovery is how long the load goes on after the new leader's
	// first commit, before the clients stop and the state is checked.
	afterRecovery = 300 * time.Millisecond
	// recoverWait bounds the wait for a new leader's first commit.
	recoverWait = 20 * time.Second
	// attemptTimeout bounds one Submit; a Submit that fails (the leader
	// died under it) or times out is tried again, as the same command.
	attemptTimeout = 5 * time.Second
	// convergeWait bounds the wait for a surviving replica to hold every
	// acknowledged write.
	convergeWait = 10 * time.Second
)

// A foSystem is a system of the failover benchmark.
type foSystem struct {
	name   string
	start  func(system.Timing) (*foTarget, error)
	timing func(system.Timing) string // how the timing maps onto the library's knobs
}

// foTarget is a started group, as the failover benchmark drives it.
type foTarget struct {
	newClient  func() foClient
	killLeader func() (int, error)
	kv         func(i int) *system.KV
	electing   func() bool // system.Failover's Electing
	close      func()
}

// A foClient submits one command at a time and reports which replica, as
// leader, committed it.
type foClient func(ctx context.Context, cmd []byte) (res []byte, by int, err error)

var failoverSystems = []foSystem{
	{"vrlab", vrlabFailover(false, 0), vrTiming},
	{"hashicorp", peerFailover(hashiraft.NewFailover), func(t system.Timing) string {
		return fmt.Sprintf("HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout %v (heartbeat every HeartbeatTimeout/10)", t.Election)
	}},
	{"etcd", peerFailover(etcdraft.NewFailover), func(t system.Timing) string {
		return fmt.Sprintf("HeartbeatTick %d, ElectionTick %d (%v ticks), CheckQuorum, PreVote",
			system.Ticks(t.Heartbeat, etcdraft.TickInterval), system.Ticks(t.Election, etcdraft.TickInterval), etcdraft.TickInterval)
	}},
}

// moreFailoverSystems are run only when -systems names them.
var moreFailoverSystems = []foSystem{
	// vrlab's clients over TCP, as a deployment's: vr.Client over
	// vrnet.Client, dialling each replica itself (vrnet's defaults:
	// CallTimeout 1 s).
	{"vrlab-vrnet", vrlabFailover(true, 0), vrTiming},
	// vrlab's in-process clients, but a replica that answers NOTPRIMARY
	// naming itself (the new primary, still in its view change) is asked
	// again every millisecond, for up to 100 ms, before vr.Client hears
	// of it: the etcd adapter's 1 ms leader poll, instead of vr.Client's
	// 20 ms pause after a round no replica took.
	{"vrlab-poll", vrlabFailover(false, pollPrimary), vrTiming},
}

func vrTiming(t system.Timing) string {
	return fmt.Sprintf("HeartbeatTicks %d, ViewChangeTicks %d (%v ticks)",
		system.Ticks(t.Heartbeat, vr.TickInterval), system.Ticks(t.Election, vr.TickInterval), vr.TickInterval)
}

func failoverNames() string {
	var n []string
	for _, s := range append(slices.Clip(failoverSystems), moreFailoverSystems...) {
		n = append(n, s.name)
	}
	return strings.Join(n, ", ")
}

func chooseFailover(list string) ([]foSystem, error) {
	if list == "" {
		return failoverSystems, nil
	}
	var out []foSystem
	for _, name := range strings.Split(list, ",") {
		all := append(slices.Clip(failoverSystems), moreFailoverSystems...)
		i := slices.IndexFunc(all, func(s foSystem) bool { return s.name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("no failover system %q; the systems are %s", name, failoverNames())
		}
		out = append(out, all[i])
	}
	return out, nil
}

// vrlabFailover: three vrnet.Replicas (replica-to-replica over TCP) with
// the failover timing; each client is a vr.Client calling the replicas'
// Nodes in-process (inprocClient), like every system's clients here, or
// with overTCP a vr.Client over vrnet.Client (tcpClient).
func vrlabFailover(overTCP bool, poll time.Duration) func(system.Timing) (*foTarget, error) {
	return func(t system.Timing) (*foTarget, error) { return startVRFailover(t, overTCP, poll) }
}

// pollPrimary is vrlab-poll's: see moreFailoverSystems.
const pollPrimary = time.Millisecond

func startVRFailover(t system.Timing, overTCP bool, poll time.Duration) (*foTarget, error) {
	opts := vrOptions // the checkpoint policy and -batch, as in the throughput rows
	opts.HeartbeatTicks = system.Ticks(t.Heartbeat, vr.TickInterval)
	opts.ViewChangeTicks = system.Ticks(t.Election, vr.TickInterval)
	addrs, err := freeAddrs(3)
	if err != nil {
		return nil, err
	}
	var (
		reps    []*vrnet.Replica
		kvs     []*system.KV
		nodes   []*vr.Node
		mu      sync.Mutex
		clients []*vrnet.Client // overTCP
	)
	closeAll := func() {
		for _, r := range reps {
			r.Close()
		}
		mu.Lock()
		defer mu.Unlock()
		for _, c := range clients {
			c.Close()
		}
	}
	for i := range addrs {
		kv := system.NewKV()
		r, err := vrnet.StartReplica(vrnet.Config{ID: i, Peers: addrs, Logger: quiet}, kvSM{kv}, opts)
		if err != nil {
			closeAll()
			return nil, err
		}
		reps, kvs, nodes = append(reps, r), append(kvs, kv), append(nodes, r.Node())
	}
	if err := waitPrimary(func(i int) vr.State { return nodes[i].State() }, 3); err != nil {
		closeAll()
		return nil, err
	}
	victim, victimView := -1, 0
	return &foTarget{
		newClient: func() foClient {
			if !overTCP {
				return inprocClient(nodes, poll)
			}
			c, err := vrnet.NewClient(vrnet.Config{Peers: addrs, Logger: quiet})
			if err != nil {
				panic(err) // only for an empty address list
			}
			mu.Lock()
			clients = append(clients, c)
			mu.Unlock()
			t := &tcpTransport{Client: c}
			return vrClient(vr.NewClient(len(addrs), t), &t.req, &t.okFrom)
		},
		killLeader: func() (int, error) {
			p, view := -1, -1
			for i, n := range nodes {
				if st := n.State(); st.IsPrimary && st.View > view {
					p, view = i, st.View
				}
			}
			if p < 0 {
				return -1, errors.New("vrlab: no primary to kill")
			}
			// Close kills the Node first (it steps, ticks and sends
			// nothing more, and every request waiting on it is answered
			// with nothing), then closes its listener and connections.
			reps[p].Close()
			victim, victimView = p, view
			return p, nil
		},
		kv: func(i int) *system.KV { return kvs[i] },
		electing: func() bool {
			for i, n := range nodes {
				if st := n.State(); i != victim && (st.View > victimView || st.Status != vr.Normal) {
					return true
				}
			}
			return false
		},
		close: closeAll,
	}, nil
}

// inprocTransport is a vr.ClientTransport that calls the Nodes in-process
// (as the vrlab/mem rows' clients do), and notes which replica answered
// the request under way with its result.
type inprocTransport struct {
	nodes  []*vr.Node
	poll   time.Duration // > 0: ask a replica naming itself primary again after this long (vrlab-poll)
	req    atomic.Int64  // the RequestNum of the request under way
	okFrom atomic.Int32  // the replica that answered it OK first; -1 before
}

func (t *inprocTransport) Call(server int, args *vr.RequestArgs, reply *vr.RequestReply) bool {
	// A live replica answers at once (NOTPRIMARY) or when the op commits,
	// within the Node's own wait (400 ms); a killed one at once, with
	// nothing.
	*reply = t.nodes[server].Request(context.Background(), *args)
	for start := time.Now(); t.poll > 0 && reply.NotPrimary && reply.Primary == server && time.Since(start) < 100*time.Millisecond; {
		time.Sleep(t.poll)
		*reply = t.nodes[server].Request(context.Background(), *args)
	}
	if reply.OK && int64(args.RequestNum) == t.req.Load() {
		t.okFrom.CompareAndSwap(-1, int32(server))
	}
	return reply.OK || reply.NotPrimary
}

// inprocClient is one client: a vr.Client (its hints, broadcasts and
// retries as they are) over an inprocTransport.
func inprocClient(nodes []*vr.Node, poll time.Duration) foClient {
	t := &inprocTransport{nodes: nodes, poll: poll}
	return vrClient(vr.NewClient(len(nodes), t), &t.req, &t.okFrom)
}

// vrClient is a foClient of vc, whose transport notes in okFrom which
// replica answered request req.
func vrClient(vc *vr.Client, req *atomic.Int64, okFrom *atomic.Int32) foClient {
	var n int64 // vr.Client numbers its requests 1, 2, 3, …
	return func(ctx context.Context, cmd []byte) ([]byte, int, error) {
		n++
		okFrom.Store(-1)
		req.Store(n)
		res, err := vc.InvokeContext(ctx, cmd)
		return res, int(okFrom.Load()), err
	}
}

// tcpTransport is vrnet.Client (vrnet's default timing) noting which
// replica answered the request under way with its result.
type tcpTransport struct {
	*vrnet.Client
	req    atomic.Int64
	okFrom atomic.Int32
}

func (t *tcpTransport) Call(server int, args *vr.RequestArgs, reply *vr.RequestReply) bool {
	ok := t.Client.Call(server, args, reply)
	if ok && reply.OK && int64(args.RequestNum) == t.req.Load() {
		t.okFrom.CompareAndSwap(-1, int32(server))
	}
	return ok
}

// peerFailover is a library's failover group, over TCP; its clients call
// SubmitBy in-process.
func peerFailover(start func(string, system.Timing) (system.Failover, error)) func(system.Timing) (*foTarget, error) {
	return func(t system.Timing) (*foTarget, error) {
		g, err := start("tcp", t)
		if err != nil {
			return nil, err
		}
		return &foTarget{
			newClient:  func() foClient { return g.SubmitBy },
			killLeader: g.KillLeader,
			kv:         g.KV,
			electing:   g.Electing,
			close:      g.Close,
		}, nil
	}
}

// killResult is one kill's measurements.
type killResult struct {
	victim   int
	failover time.Duration   // from the kill to the first command the new leader committed
	detect   time.Duration   // from the kill to the first election (view change) seen begun
	seen     bool            // the election's start was seen (detect is valid)
	inflight []time.Duration // latencies of the commands in flight across the kill
	acked    int             // writes whose Submit succeeded
	lost     int             // of those, missing from a surviving replica
}

// sample is one command as its client saw it.
type sample struct {
	invoked, done time.Time
	by            int // the leader that committed it
}

// ack is a client's last acknowledged write of one of its keys.
type ack struct {
	seq, version uint64
	ok           bool
}

// runKill starts a fresh group of s, loads it with failoverClients clients
// for warm, kills its leader, lets the load go on until afterRecovery past
// the new leader's first commit, stops the clients, and checks the
// survivors.
func runKill(s foSystem, timing system.Timing, warm time.Duration) (killResult, error) {
	t, err := s.start(timing)
	if err != nil {
		return killResult{}, fmt.Errorf("start: %w", err)
	}
	defer t.close()
	runtime.GC() // the previous kill's garbage is not this one's

	ctx, cancel := context.WithTimeout(context.Background(), warm+recoverWait+time.Minute)
	defer cancel()
	var (
		stop      atomic.Bool
		victim    atomic.Int32
		recovered = make(chan struct{})
		once      sync.Once
		samples   = make([][]sample, failoverClients)
		acks      = make([][]ack, failoverClients)
		g         errgroup.Group
	)
	victim.Store(-1)
	for i := range failoverClients {
		c := t.newClient()
		acks[i] = make([]ack, system.KeysPerClient)
		g.Go(func() error {
			for seq := 0; !stop.Load(); seq++ {
				cmd := system.Command(i, seq)
				invoked := time.Now()
				res, by, err := submitUntilDone(ctx, c, cmd)
				if err != nil {
					return fmt.Errorf("client %d, command %d: %w", i, seq, err)
				}
				done := time.Now()
				if err := system.CheckResult(res); err != nil {
					return fmt.Errorf("client %d, command %d: result %x: %w", i, seq, res, err)
				}
				acks[i][seq%system.KeysPerClient] = ack{uint64(seq), binary.LittleEndian.Uint64(res), true}
				samples[i] = append(samples[i], sample{invoked, done, by})
				if v := victim.Load(); v >= 0 && by != int(v) {
					once.Do(func() { close(recovered) })
				}
			}
			return nil
		})
	}
	stopClients := func() error { stop.Store(true); return g.Wait() }

	time.Sleep(warm)
	var (
		killAt time.Time
		v      int
	)
	// A moment without a leader (a spurious election on a loaded machine)
	// leaves nothing to kill: try again, for a second at most.
	for tries := 0; ; tries++ {
		killAt = time.Now()
		if v, err = t.killLeader(); err == nil {
			break
		}
		if tries == 100 {
			stopClients()
			return killResult{}, err
		}
		time.Sleep(10 * time.Millisecond)
	}
	victim.Store(int32(v))
	var detectAt time.Time
	watched, quit := make(chan struct{}), make(chan struct{})
	defer close(quit)
	go func() { // poll for the election's start, every half millisecond
		defer close(watched)
		// Only an election begun after the kill counts: if one was under
		// way already (a follower that timed out under a stall of the
		// machine), wait for it to end first.
		quiet := false
		for {
			switch e := t.electing(); {
			case e && quiet:
				detectAt = time.Now()
				return
			case !e:
				quiet = true
			}
			select {
			case <-recovered:
				return
			case <-quit:
				return
			case <-time.After(500 * time.Microsecond):
			}
		}
	}()
	select {
	case <-recovered:
	case <-time.After(recoverWait):
		stopClients()
		return killResult{}, fmt.Errorf("no command committed by a new leader within %v of killing replica %d", recoverWait, v)
	}
	time.Sleep(afterRecovery)
	if err := stopClients(); err != nil {
		return killResult{}, err
	}
	<-watched

	res := killResult{victim: v}

	var first time.Time // the new leader's first commit
	for _, ss := range samples {
		res.acked += len(ss)
		for _, x := range ss {
			if x.by != v && x.done.After(killAt) && (first.IsZero() || x.done.Before(first)) {
				first = x.done
			}
		}
	}
	res.failover = first.Sub(killAt)
	if !detectAt.IsZero() {
		res.detect = min(detectAt.Sub(killAt), res.failover) // seen up to a poll late
		res.seen = true
	}
	for _, ss := range samples {
		for _, x := range ss {
			// In flight across the kill: invoked before the recovery, and
			// not answered by the old leader (which may answer for a
			// moment after killAt, until the kill has stopped it).
			if x.invoked.Before(first) && x.done.After(killAt) && x.by != v {
				res.inflight = append(res.inflight, x.done.Sub(x.invoked))
			}
		}
	}
	for i := range 3 {
		if i != v {
			if lost := converge(t.kv(i), acks); lost > 0 {
				res.lost = max(res.lost, lost)
				fmt.Fprintf(os.Stderr, "bench: %s: replica %d (a survivor) lacks %d acknowledged writes\n", s.name, i, lost)
			}
		}
	}
	return res, nil
}

// submitUntilDone submits cmd until a Submit succeeds: a Submit that fails
// may or may not have applied it (the workload tolerates a command applied
// twice: its result is still a version).
func submitUntilDone(ctx context.Context, c foClient, cmd []byte) ([]byte, int, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		res, by, err := c(actx, cmd)
		cancel()
		if err == nil {
			return res, by, nil
		}
		if ctx.Err() != nil {
			return nil, -1, err
		}
	}
}

// converge waits until kv holds every acknowledged write (each key's last
// command at least the last one acknowledged, its version at least the
// one that command returned), at most convergeWait, and returns how many
// are missing then.
func converge(kv *system.KV, acks [][]ack) int {
	deadline := time.Now().Add(convergeWait)
	for {
		lost := missing(kv, acks)
		if lost == 0 || time.Now().After(deadline) {
			return lost
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func missing(kv *system.KV, acks [][]ack) int {
	lost := 0
	for client, keys := range acks {
		for k, a := range keys {
			if !a.ok {
				continue
			}
			seq, version, ok := kv.Lookup(system.KeyOf(system.Command(client, k)))
			if !ok || seq < a.seq || version < a.version {
				lost++
			}
		}
	}
	return lost
}

// foRow is every kill of one system.
type foRow struct {
	sys   foSystem
	kills []killResult
}

// runFailover runs kills kills of every system, round-robin (kill 1 of
// each, then kill 2 of each, …: a machine whose load drifts slows every
// system alike), prints the table, and returns the exit code: non-zero if
// a kill failed or lost an acknowledged write.
func runFailover(chosen []foSystem, kills int, timing system.Timing, warm time.Duration, out string) int {
	fmt.Printf("vrlab bench -failover: %s, GOMAXPROCS=%d, %d kills per system, %d clients, %v warm-up, heartbeat %v, election/view-change timeout %v\n",
		runtime.Version(), runtime.GOMAXPROCS(0), kills, failoverClients, warm, timing.Heartbeat, timing.Election)
	rows := make([]*foRow, len(chosen))
	for i, s := range chosen {
		rows[i] = &foRow{sys: s}
	}
	failed := false
	for k := range kills {
		for _, r := range rows {
			res, err := runKill(r.sys, timing, warm)
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench: %s, kill %d: %v\n", r.sys.name, k+1, err)
				failed = true
				continue
			}
			r.kills = append(r.kills, res)
			if res.lost > 0 {
				failed = true
			}
			election := "election not seen"
			if res.seen {
				election = fmt.Sprintf("election began at %4.0f ms, +%3.0f ms", ms(res.detect), ms(res.failover-res.detect))
			}
			fmt.Printf("%-11s kill %2d/%d: replica %d killed, failover %4.0f ms (%s), %2d in flight (slowest %4.0f ms), %6d writes acknowledged, %d lost\n",
				r.sys.name, k+1, kills, res.victim, ms(res.failover), election,
				len(res.inflight), ms(slices.Max(append([]time.Duration{0}, res.inflight...))), res.acked, res.lost)
		}
	}
	var done []*foRow
	for _, r := range rows {
		if len(r.kills) > 0 {
			done = append(done, r)
		}
	}
	table := foMarkdown(done, timing) + "\n" + foGoal(done)
	if !printTable(table, out) {
		failed = true
	}
	for _, r := range done {
		if l := r.lost(); l > 0 {
			fmt.Fprintf(os.Stderr, "bench: %s LOST %d acknowledged writes\n", r.sys.name, l)
		}
	}
	if failed {
		return 1
	}
	return 0
}

func (r *foRow) failovers() []time.Duration {
	var d []time.Duration
	for _, k := range r.kills {
		d = append(d, k.failover)
	}
	slices.Sort(d)
	return d
}

// afterDetect is each kill's failover time less its detection: from the
// first election (view change) begun to the new leader's first commit (the
// kills whose election was seen).
func (r *foRow) afterDetect() []time.Duration {
	var d []time.Duration
	for _, k := range r.kills {
		if k.seen {
			d = append(d, k.failover-k.detect)
		}
	}
	slices.Sort(d)
	return d
}

func (r *foRow) inflight() []time.Duration {
	var d []time.Duration
	for _, k := range r.kills {
		d = append(d, k.inflight...)
	}
	slices.Sort(d)
	return d
}

func (r *foRow) acked() (n int) {
	for _, k := range r.kills {
		n += k.acked
	}
	return n
}

func (r *foRow) lost() (n int) {
	for _, k := range r.kills {
		n += k.lost
	}
	return n
}

// medianOf is the median of sorted d (the mean of the middle two of an
// even count).
func medianOf(d []time.Duration) time.Duration {
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

// quantile is the nearest-rank q-quantile of sorted d.
func quantile(d []time.Duration, q float64) time.Duration {
	return d[max(0, int(math.Ceil(q*float64(len(d))))-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

var foHeader = []string{"system", "timing", "kills", "failover median ms", "p90 ms", "min ms", "max ms", "election → commit median ms (max)", "in-flight p99 ms", "writes acknowledged", "lost"}

func foMarkdown(rows []*foRow, timing system.Timing) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(foHeader, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(foHeader)) + "\n")
	for _, r := range rows {
		f := r.failovers()
		inflight := "—"
		if in := r.inflight(); len(in) > 0 {
			inflight = fmt.Sprintf("%.0f", ms(quantile(in, 0.99)))
		}
		after := "—"
		if a := r.afterDetect(); len(a) > 0 {
			after = fmt.Sprintf("%.0f (%.0f)", ms(medianOf(a)), ms(a[len(a)-1]))
			if len(a) < len(r.kills) {
				after += fmt.Sprintf(", %d of %d kills", len(a), len(r.kills))
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %.0f | %.0f | %.0f | %s | %s | %d | %d |\n",
			r.sys.name, r.sys.timing(timing), len(r.kills), ms(medianOf(f)), ms(quantile(f, 0.9)),
			ms(f[0]), ms(f[len(f)-1]), after, inflight, r.acked(), r.lost())
	}
	return b.String()
}

// foGoal checks the goal: vrlab's median failover at most the best peer's.
func foGoal(rows []*foRow) string {
	var vr, best *foRow
	for _, r := range rows {
		switch {
		case r.sys.name == "vrlab":
			vr = r
		case strings.HasPrefix(r.sys.name, "vrlab"): // a variant, not a peer
		case best == nil || medianOf(r.failovers()) < medianOf(best.failovers()):
			best = r
		}
	}
	if vr == nil || best == nil {
		return ""
	}
	v, p := medianOf(vr.failovers()), medianOf(best.failovers())
	mark := "met"
	if v > p {
		mark = "NOT met"
	}
	return fmt.Sprintf("- failover: vrlab median %.0f ms, best peer %.0f ms (%s); goal ≤: %s\n", ms(v), ms(p), best.sys.name, mark)
}
