// Package harness runs the graded tests' VR clusters over labrpc: n replicas
// that a test can disconnect, partition, crash and restart, on a reliable or
// unreliable network, with checkers running throughout. Every wait is
// bounded and fails with what it expected and what it saw.
package harness

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"vrlab/labrpc"
	"vrlab/vr"
)

// TimeCap bounds one graded test; past it the test panics with a message.
const TimeCap = 120 * time.Second

// Cluster is n VR replicas on one labrpc network.
type Cluster struct {
	t     *testing.T
	title string
	n     int
	opts  vr.Options
	pad   int // Recorder snapshot padding

	net   *labrpc.Network
	check *checker
	watch *watcher
	drops dropRules
	tl    timeline // faults and what the watcher saw, in order

	mu        sync.Mutex
	nodes     []*vr.Node // nil while crashed
	servers   []Server   // what runs on each replica; nil while crashed
	factory   ServerFactory
	recorders []*Recorder
	lives     []int
	ends      [][]string // ends[i][j]: name of the end replica i uses to reach j
	group     []int      // partition group of each replica; -1 = cut off from all
	oneWay    [][]bool   // oneWay[i][j]: messages from i to j are lost (CutOneWay)
	clients   []*Client
	recovery  []int // RECOVERY messages delivered from each replica since its restart
	nextEnd   int

	start     time.Time
	rpcs0     int
	bytes0    int64
	ops       int // client ops completed
	goroutine int // goroutines before the cluster started
	capTimer  *time.Timer
}

// Server is what runs on one replica: a vr.Node and the service around it
// (the kvvr and shardctrler servers, or the harness's own Recorder).
type Server interface {
	Node() *vr.Node
	Kill()
}

// ServerFactory starts the server of replica me over ends (ends[j] reaches
// replica j). The harness sets opts.Recovering on a restart.
type ServerFactory func(ends []*labrpc.ClientEnd, me int, opts vr.Options) Server

// WithServers runs the given server on every replica instead of a bare VR
// node with a Recorder. The agreement checker then sees nothing (the
// service's own tests check it); the view checks still run.
func WithServers(f ServerFactory) Option { return func(c *Cluster) { c.factory = f } }

// recorderServer is the default: a vr.Node replicating a Recorder.
type recorderServer struct{ node *vr.Node }

func (s recorderServer) Node() *vr.Node { return s.node }
func (s recorderServer) Kill()          { s.node.Kill() }

// Option changes how New builds a cluster.
type Option func(*Cluster)

// Unreliable makes the network delay, drop and reorder messages from the start.
func Unreliable() Option { return func(c *Cluster) { c.net.Reliable(false) } }

// WithOptions sets the vr.Options of every replica (Recovering is managed by
// the harness).
func WithOptions(o vr.Options) Option { return func(c *Cluster) { c.opts = o } }

// SnapshotPadding makes each replica's service state this many bytes larger.
func SnapshotPadding(bytes int) Option { return func(c *Cluster) { c.pad = bytes } }

// New starts a cluster of n replicas for the test titled title (e.g.
// "Test (A): initial view"). It stops and checks everything when the test ends.
func New(t *testing.T, n int, title string, options ...Option) *Cluster {
	t.Helper()
	c := &Cluster{
		t: t, title: title, n: n,
		net:       labrpc.MakeNetwork(),
		check:     newChecker(n),
		nodes:     make([]*vr.Node, n),
		recorders: make([]*Recorder, n),
		servers:   make([]Server, n),
		recovery:  make([]int, n),
		lives:     make([]int, n),
		ends:      make([][]string, n),
		group:     make([]int, n),
		oneWay:    newLinkMatrix(n),
		goroutine: runtime.NumGoroutine(),
		drops:     dropRules{rules: map[string]func(vr.Message) bool{}, delays: map[string]delayRule{}, observers: map[string]func(vr.Message){}},
	}
	for _, o := range options {
		o(c)
	}
	c.capTimer = time.AfterFunc(TimeCap, func() {
		panic(fmt.Sprintf("%s: exceeded the harness time cap of %v (a wait that never ended?)", title, TimeCap))
	})
	c.watch = newWatcher(c)
	for i := 0; i < n; i++ {
		c.startReplica(i, false)
	}
	c.watch.start()
	c.start = time.Now()
	t.Cleanup(c.cleanup)
	return c
}

func serverName(i int) string { return fmt.Sprintf("server-%d", i) }

// startReplica makes replica i (again) with a fresh service and fresh ends.
func (c *Cluster) startReplica(i int, recovering bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lives[i]++
	ends := make([]*labrpc.ClientEnd, c.n)
	c.ends[i] = make([]string, c.n)
	for j := 0; j < c.n; j++ {
		name := fmt.Sprintf("r%d-to-%d-#%d", i, j, c.nextEnd)
		c.nextEnd++
		c.ends[i][j] = name
		ends[j] = c.net.MakeEnd(name)
		c.net.Connect(name, serverName(j))
	}
	opts := c.opts
	opts.Recovering = recovering
	c.recorders[i] = newRecorder(c.check, i, c.lives[i], c.pad)
	var server Server
	if c.factory != nil {
		server = c.factory(ends, i, opts)
	} else {
		node, err := vr.StartNode(ends, i, c.recorders[i], opts)
		if err != nil {
			c.t.Fatalf("replica %d did not start: %v", i, err)
		}
		server = recorderServer{node}
	}
	node := server.Node()
	c.servers[i] = server
	c.nodes[i] = node
	srv := labrpc.MakeServer()
	srv.AddService(c.service(node))
	c.net.AddServer(serverName(i), srv)
	c.applyLinksLocked()
	if recovering {
		// Under c.mu, so before the watcher can see the new life.
		c.tl.add(Event{Kind: EventRestart, Replica: i})
	}
}

// N is the number of replicas.
func (c *Cluster) N() int { return c.n }

// Alive reports whether replica i is running (not crashed).
func (c *Cluster) Alive(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i] != nil
}

// State returns replica i's state; ok is false while it is crashed.
func (c *Cluster) State(i int) (vr.State, bool) {
	c.mu.Lock()
	node := c.nodes[i]
	c.mu.Unlock()
	if node == nil {
		return vr.State{}, false
	}
	return node.State(), true
}

// stateOf is State with the replica's life (1 for the first, +1 per restart).
func (c *Cluster) stateOf(i int) (vr.State, int, bool) {
	c.mu.Lock()
	node, life := c.nodes[i], c.lives[i]
	c.mu.Unlock()
	if node == nil {
		return vr.State{}, life, false
	}
	return node.State(), life, true
}

// Executed returns the op-number of the last op replica i's service applied
// (0 while it is crashed).
func (c *Cluster) Executed(i int) int {
	if c.factory != nil {
		st, _ := c.State(i)
		return st.Executed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recorders[i].Executed()
}

// AddOps counts n client ops for the summary line (service tests whose
// clerks do not go through Client.Submit).
func (c *Cluster) AddOps(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops += n
}

// Restores counts the checkpoints replica i's services (all its lives)
// restored.
func (c *Cluster) Restores(i int) int { return c.check.restoresOf(i) }

// RPCsTo is the number of RPCs the server of replica i's current life has
// handled: replica messages, and client requests if clients call it.
func (c *Cluster) RPCsTo(i int) int { return c.net.GetCount(serverName(i)) }

// RPCs is the number of RPCs sent since the test started.
func (c *Cluster) RPCs() int { return c.net.GetTotalCount() - c.rpcs0 }

// Bytes is the number of bytes sent since the test started.
func (c *Cluster) Bytes() int64 { return c.net.GetTotalBytes() - c.bytes0 }

// ResetCounters starts RPCs and Bytes from zero again.
func (c *Cluster) ResetCounters() {
	c.rpcs0 = c.net.GetTotalCount()
	c.bytes0 = c.net.GetTotalBytes()
}

// Describe is every replica's state on one line each, for failure messages.
func (c *Cluster) Describe() string {
	var b strings.Builder
	if rules := c.dropRuleNames(); len(rules) > 0 {
		// Links say what Disconnect and Partition did; drop rules cut
		// messages on top of that.
		fmt.Fprintf(&b, "\n  drop rules in force (messages they match are lost whatever the links say): %s", strings.Join(rules, "; "))
	}
	for i := 0; i < c.n; i++ {
		st, ok := c.State(i)
		c.mu.Lock()
		g := c.group[i]
		c.mu.Unlock()
		link := "links up"
		if g < 0 {
			link = "cut off"
		} else if g > 0 {
			link = fmt.Sprintf("group %d", g)
		}
		if !ok {
			fmt.Fprintf(&b, "\n  R%d: crashed", i)
			continue
		}
		prim := ""
		if st.IsPrimary {
			prim = " PRIMARY"
		}
		fmt.Fprintf(&b, "\n  R%d (%s): view %d %v%s, op %d, commit %d, executed %d, log %d, checkpoint %d",
			i, link, st.View, st.Status, prim, st.OpNumber, st.CommitNumber, st.Executed, st.LogLen, st.CheckpointOpNumber)
		if st.Epoch > 0 || len(st.Members) != c.n {
			fmt.Fprintf(&b, ", epoch %d from op %d, members %v", st.Epoch, st.EpochStart, st.Members)
			if st.Retired {
				b.WriteString(", retired")
			}
		}
	}
	return b.String()
}

// Fatalf fails the test with the cluster's state appended.
func (c *Cluster) Fatalf(format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("%s\nreplicas now:%s\n(rerun with VRDEBUG=view,state,recovery,epoch for a trace)", fmt.Sprintf(format, args...), c.Describe())
}

// checkSafety fails the test if a checker has seen a violation.
func (c *Cluster) checkSafety() {
	c.t.Helper()
	if err := c.check.failure(); err != nil {
		c.Fatalf("%v", err)
	}
	if err := c.watch.failure(); err != nil {
		c.Fatalf("%v", err)
	}
}

// cleanup stops everything, prints the summary line and checks that no
// goroutine was left behind.
func (c *Cluster) cleanup() {
	c.capTimer.Stop()
	elapsed := time.Since(c.start)
	rpcs, bytes := c.RPCs(), c.Bytes()
	c.watch.stop()
	safetyErr := c.check.failure()
	if safetyErr == nil {
		safetyErr = c.watch.failure()
	}
	for _, cl := range c.clients {
		cl.stop()
	}
	for i := 0; i < c.n; i++ {
		c.Crash(i)
	}
	c.net.Cleanup()
	for _, cl := range c.clients {
		cl.wait()
	}
	if safetyErr != nil && !c.t.Failed() {
		c.t.Errorf("%v", safetyErr)
	}
	c.checkGoroutines()
	verdict := "Passed"
	if c.t.Failed() {
		verdict = "FAILED"
	}
	c.mu.Lock()
	ops := c.ops
	c.mu.Unlock()
	fmt.Printf("%s ... %s -- %4.1fs %d peers %d rpcs %d bytes %d ops\n",
		c.title, verdict, elapsed.Seconds(), c.n, rpcs, bytes, ops)
}

// checkGoroutines waits (boundedly) for the goroutines of the cluster to end.
func (c *Cluster) checkGoroutines() {
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > c.goroutine {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Fprintf(os.Stderr, "goroutines still running:\n%s\n", buf)
			c.t.Errorf("%d goroutines left behind after the cluster stopped (had %d before it started); stacks above",
				runtime.NumGoroutine()-c.goroutine, c.goroutine)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
