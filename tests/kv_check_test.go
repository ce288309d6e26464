package tests

// Helpers of the part KV tests: a cluster of kvvr servers, clerks whose
// every op is recorded, background client load, and the linearizability
// check with porcupine.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"vrlab/kvvr"
	"vrlab/kvvr/kvmodel"
	"vrlab/labrpc"
	"vrlab/tests/harness"
	"vrlab/vr"
)

// linearizabilityTimeout bounds porcupine's check. The tests size their
// histories so that it takes well under a second; a check that runs out of
// time fails the test, since it proved nothing.
const linearizabilityTimeout = 20 * time.Second

// kvTest is a cluster of kvvr servers and the history of every op its
// clerks ran.
type kvTest struct {
	*harness.Cluster
	t    *testing.T
	hist *kvHistory

	mu      sync.Mutex
	servers []*kvvr.KVServer // by replica: its current (or last) life
	clients int

	ctx    context.Context // ends when the test ends: no clerk outlives it
	cancel context.CancelFunc
	wg     sync.WaitGroup // background clerks

	paged bool // the annotated page of the history is written
}

// newKVTest starts n kvvr servers on a harness cluster.
func newKVTest(t *testing.T, n int, title string, options ...harness.Option) *kvTest {
	t.Helper()
	k := &kvTest{t: t, hist: newKVHistory(), servers: make([]*kvvr.KVServer, n)}
	factory := func(ends []*labrpc.ClientEnd, me int, opts vr.Options) harness.Server {
		kv := kvvr.StartKVServer(ends, me, opts)
		k.mu.Lock()
		k.servers[me] = kv
		k.mu.Unlock()
		return kv
	}
	k.Cluster = harness.New(t, n, title, append(options, harness.WithServers(factory))...)
	k.ctx, k.cancel = context.WithCancel(context.Background())
	// Cleanups run last first: the clerks stop, then the page of a failed
	// test is written, then the servers and the network go.
	t.Cleanup(k.pageAtEnd)
	t.Cleanup(func() {
		k.cancel()
		k.wg.Wait()
	})
	return k
}

// server returns replica i's KVServer, or nil while it is crashed.
func (k *kvTest) server(i int) *kvvr.KVServer {
	if !k.Alive(i) {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.servers[i]
}

// ---------------------------------------------------------------------------
// Clerks.

// kvClerk is a kvvr.Clerk on its own harness client; every op it runs is
// recorded in the test's history. One op at a time.
type kvClerk struct {
	k  *kvTest
	id int // the client's number in the history (and in porcupine's drawing)
	hc *harness.Client
	ck *kvvr.Clerk
}

func (k *kvTest) newClerk() *kvClerk {
	k.mu.Lock()
	id := k.clients
	k.clients++
	k.mu.Unlock()
	hc := k.NewClient()
	cl := &kvClerk{k: k, id: id, hc: hc, ck: kvvr.MakeClerk(hc.Ends())}
	k.t.Logf("clerk %d is VR client c%d", id, cl.ck.ID())
	return cl
}

// do runs op, bounded by timeout, and records it. A Put or Append that did
// not complete may still take effect at any later time, so it is recorded
// as returning never; a Get that did not complete is left out (it changed
// nothing and returned nothing).
func (cl *kvClerk) do(op kvvr.Op, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(cl.k.ctx, timeout)
	defer cancel()
	h := cl.k.hist
	call := h.now()
	var value string
	var err error
	switch op.Kind {
	case kvvr.OpGet:
		value, err = cl.ck.GetContext(ctx, op.Key)
	case kvvr.OpPut:
		err = cl.ck.PutContext(ctx, op.Key, op.Value)
	case kvvr.OpAppend:
		err = cl.ck.AppendContext(ctx, op.Key, op.Value)
	}
	ret := h.now()
	if err != nil {
		if op.Kind != kvvr.OpGet {
			h.add(cl.id, op, call, "", math.MaxInt64)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("client %d: %v did not complete within %v", cl.id, op, timeout)
		}
		return "", fmt.Errorf("client %d: %v: %v", cl.id, op, err)
	}
	h.add(cl.id, op, call, value, ret)
	cl.k.AddOps(1)
	return value, nil
}

func (cl *kvClerk) tryGet(key string, timeout time.Duration) (string, error) {
	return cl.do(kvvr.Op{Kind: kvvr.OpGet, Key: key}, timeout)
}

func (cl *kvClerk) tryPut(key, value string, timeout time.Duration) error {
	_, err := cl.do(kvvr.Op{Kind: kvvr.OpPut, Key: key, Value: value}, timeout)
	return err
}

func (cl *kvClerk) tryAppend(key, value string, timeout time.Duration) error {
	_, err := cl.do(kvvr.Op{Kind: kvvr.OpAppend, Key: key, Value: value}, timeout)
	return err
}

// get, put and append fail the test if the op does not complete within
// opTimeout. Call them from the test goroutine only.
func (cl *kvClerk) get(key string) string {
	cl.k.t.Helper()
	v, err := cl.tryGet(key, opTimeout)
	if err != nil {
		cl.k.Fatalf("%v", err)
	}
	return v
}

func (cl *kvClerk) put(key, value string) {
	cl.k.t.Helper()
	if err := cl.tryPut(key, value, opTimeout); err != nil {
		cl.k.Fatalf("%v", err)
	}
}

func (cl *kvClerk) append(key, value string) {
	cl.k.t.Helper()
	if err := cl.tryAppend(key, value, opTimeout); err != nil {
		cl.k.Fatalf("%v", err)
	}
}

// checkGet fails the test unless key's value is want.
func (cl *kvClerk) checkGet(key, want string) {
	cl.k.t.Helper()
	if got := cl.get(key); got != want {
		cl.k.Fatalf("client %d: Get(%q) returned %q; expected %q", cl.id, key, kvmodel.Abbrev(got), kvmodel.Abbrev(want))
	}
}

// pending is an op running in the background.
type pending struct {
	done  chan struct{}
	value string
	err   error
}

// start runs op in the background, bounded by timeout.
func (cl *kvClerk) start(op kvvr.Op, timeout time.Duration) *pending {
	p := &pending{done: make(chan struct{})}
	cl.k.wg.Add(1)
	go func() {
		defer cl.k.wg.Done()
		defer close(p.done)
		p.value, p.err = cl.do(op, timeout)
	}()
	return p
}

func (p *pending) finished() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *pending) wait() (string, error) {
	<-p.done
	return p.value, p.err
}

// ---------------------------------------------------------------------------
// Background load.

// kvLoad is a set of clerks running random ops on a few keys, one op after
// another, until stopped.
type kvLoad struct {
	k       *kvTest
	stop    atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	done    int
	running int // clerks still running
	err     error
	clerks  []*kvClerk
}

// maxLoadOps caps one load clerk's ops, to keep a history checkable even
// if ops complete absurdly fast. A real service stays far below it.
const maxLoadOps = 20000

// loadSpec says what a kvLoad does.
type loadSpec struct {
	clients   int
	keys      int
	opTimeout time.Duration // bound of each op
	pause     time.Duration // each clerk waits up to this long (at random) between ops
	noAppend  bool          // Gets and Puts only: values stay small
	gets      int           // percent of the ops that are Gets; 0 = 40
}

// startLoad starts the clerks. Each op is a Get, a Put or an Append of a
// value unique in the test, on one of spec.keys keys. The pauses between
// ops spread a history of checkable size over the test's faults.
func (k *kvTest) startLoad(spec loadSpec) *kvLoad {
	l := &kvLoad{k: k}
	for i := 0; i < spec.clients; i++ {
		cl := k.newClerk()
		l.clerks = append(l.clerks, cl)
		seed := time.Now().UnixNano() + int64(i)
		l.wg.Add(1)
		k.wg.Add(1)
		l.running++
		go func() {
			defer k.wg.Done()
			defer l.wg.Done()
			defer func() {
				l.mu.Lock()
				l.running--
				l.mu.Unlock()
			}()
			rng := rand.New(rand.NewSource(seed))
			for n := 0; !l.stop.Load() && n < maxLoadOps; n++ {
				if spec.pause > 0 {
					time.Sleep(time.Duration(rng.Int63n(int64(spec.pause))))
				}
				key := fmt.Sprintf("k%d", rng.Intn(spec.keys))
				op := kvvr.Op{Kind: kvvr.OpGet, Key: key}
				gets := spec.gets
				if gets == 0 {
					gets = 40
				}
				switch r := rng.Intn(100); {
				case r < gets:
				case r < gets+(100-gets)/3 || spec.noAppend:
					op = kvvr.Op{Kind: kvvr.OpPut, Key: key, Value: fmt.Sprintf("p%d.%d;", cl.id, n)}
				default:
					op = kvvr.Op{Kind: kvvr.OpAppend, Key: key, Value: fmt.Sprintf("a%d.%d;", cl.id, n)}
				}
				_, err := cl.do(op, spec.opTimeout)
				l.mu.Lock()
				if err != nil && l.err == nil {
					l.err = err
				}
				if err == nil {
					l.done++
				}
				l.mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	return l
}

func (l *kvLoad) progress() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.done
}

// waitProgress waits until at least n more ops complete.
func (l *kvLoad) waitProgress(n int, timeout time.Duration) {
	l.k.t.Helper()
	target := l.progress() + n
	l.k.Eventually(timeout, fmt.Sprintf("the clients to complete %d more ops", n), func() (bool, string) {
		l.mu.Lock()
		done, running, err := l.done, l.running, l.err
		l.mu.Unlock()
		if done < target && running == 0 {
			l.k.Fatalf("waiting for %d more ops, but every client stopped after %d ops (%d allowed each); first error: %v", n, done, maxLoadOps, err)
		}
		return done >= target, fmt.Sprintf("%d ops completed, %d to go", done, target-done)
	})
}

// finish stops the clerks, waits for each to finish its op, and fails the
// test if any op failed. It returns how many ops completed.
func (l *kvLoad) finish() int {
	l.k.t.Helper()
	l.stop.Store(true)
	l.wg.Wait()
	if l.err != nil {
		l.k.Fatalf("client load: %v", l.err)
	}
	if l.done == 0 {
		l.k.Fatalf("client load: no op completed")
	}
	return l.done
}

// ---------------------------------------------------------------------------
// Faults.

// randomPartition splits the replicas at random in two groups of random
// sizes. Clients reach group 0 only, which holds a majority about half of
// the time.
func (k *kvTest) randomPartition(rng *rand.Rand) {
	perm := rng.Perm(k.N())
	cut := 1 + rng.Intn(k.N()-1)
	k.Partition(perm[:cut], perm[cut:])
}

// crashSome crashes up to max random replicas (at least one).
func (k *kvTest) crashSome(rng *rand.Rand, most int) []int {
	victims := rng.Perm(k.N())[:1+rng.Intn(most)]
	for _, i := range victims {
		k.Crash(i)
	}
	return victims
}

// restartAll restarts the given crashed replicas and waits until each
// has recovered.
func (k *kvTest) restartAll(crashed []int, timeout time.Duration) {
	k.t.Helper()
	for _, i := range crashed {
		k.Restart(i)
	}
	for _, i := range crashed {
		k.WaitRecovered(i, timeout)
	}
}

// ---------------------------------------------------------------------------
// End-of-test checks.

// waitKVConverged waits until every live member of the newest epoch's
// configuration is normal in one view and has executed every op its primary
// committed; then every such replica must hold the same state, byte for
// byte, in every snapshot it takes (equal states give equal snapshots). It
// returns that snapshot. Call it with every replica connected and no client
// running. (Replicas outside the configuration, standbys or removed by a
// reconfiguration, hold no current state; part E's tests check them.)
func (k *kvTest) waitKVConverged(timeout time.Duration) []byte {
	k.t.Helper()
	var commit int
	var members []int
	k.Eventually(timeout, "every member normal in one view, with every committed op executed", func() (bool, string) {
		epoch, view := -1, -1
		for i := 0; i < k.N(); i++ {
			if st, ok := k.State(i); ok && st.IsPrimary && (st.Epoch > epoch || st.Epoch == epoch && st.View > view) {
				epoch, view, commit, members = st.Epoch, st.View, st.CommitNumber, st.Members
			}
		}
		if view < 0 {
			return false, "no primary"
		}
		for _, i := range members {
			st, ok := k.State(i)
			if ok && (st.Epoch != epoch || st.View != view || st.Status != vr.Normal || st.Executed != commit) {
				return false, fmt.Sprintf("R%d %v in view %d of epoch %d executed %d; the primary of view %d of epoch %d committed %d",
					i, st.Status, st.View, st.Epoch, st.Executed, view, epoch, commit)
			}
		}
		return true, ""
	})
	var snap []byte
	first := -1
	for _, i := range members {
		s := k.server(i)
		if s == nil {
			continue
		}
		for try := 0; try < 3; try++ {
			got := s.Snapshot()
			if first < 0 {
				snap, first = got, i
			} else if !bytes.Equal(got, snap) {
				who := fmt.Sprintf("R%d and R%d executed the same %d ops, but their snapshots differ", first, i, commit)
				if i == first {
					who = fmt.Sprintf("R%d's snapshots of one state differ from one another", i)
				}
				k.Fatalf("%s (%d and %d bytes): the replicas diverged, or Snapshot does not encode equal states as equal bytes (sort the keys)",
					who, len(snap), len(got))
			}
		}
	}
	return snap
}

// finalReads reads every key once more from a fresh clerk, so the history
// ends with what the service holds.
func (k *kvTest) finalReads(keys int) {
	k.t.Helper()
	cl := k.newClerk()
	for i := 0; i < keys; i++ {
		cl.get(fmt.Sprintf("k%d", i))
	}
}

// checkLinearizable fails the test unless the history of every op is
// linearizable. On a failure, or with VRVIS=1, it writes porcupine's
// drawing of the history, annotated with the cluster's events, to a file
// and says where.
func (k *kvTest) checkLinearizable() {
	k.t.Helper()
	ops := k.hist.operations()
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(kvmodel.Model, ops, linearizabilityTimeout)
	took := time.Since(start)
	if res == porcupine.Ok {
		k.t.Logf("history of %d ops is linearizable (checked in %v)", len(ops), took.Round(time.Millisecond))
		if vrvis() {
			k.t.Logf("VRVIS: %s", k.writePage(info, ops))
		}
		return
	}
	where := k.writePage(info, ops)
	if res == porcupine.Unknown {
		k.Fatalf("the linearizability check of %d ops did not finish within %v, so it proved nothing (the test's history is too large?); %s",
			len(ops), linearizabilityTimeout, where)
	}
	k.Fatalf("the history of %d ops is not linearizable: some Get returned a value that no order of the ops "+
		"consistent with real time explains (a lost, duplicated or reordered Put/Append, or a stale read); %s", len(ops), where)
}

// vrvis reports whether VRVIS asks for the page of every test, passed or not.
func vrvis() bool { v := os.Getenv("VRVIS"); return v != "" && v != "0" }

// writePage writes the annotated page of the history checked (info) and
// returns a sentence saying where it is.
func (k *kvTest) writePage(info porcupine.LinearizationInfo, ops []porcupine.Operation) string {
	k.paged = true
	path, err := harness.WritePage(k.t.Name(), kvmodel.Model, info, ops, k.Events(), k.hist.start)
	if err != nil {
		return fmt.Sprintf("(could not write the drawing of the history: %v)", err)
	}
	return "open " + path + " in a browser to see the history, the longest linearizable prefix of each key, " +
		"and the partitions, crashes, views, state transfers and checkpoints under it"
}

// pageAtEnd writes the page of a test that failed before checkLinearizable
// wrote one (or never checked), or of any test with VRVIS=1: the history so
// far with the cluster's events is often what explains the failure.
func (k *kvTest) pageAtEnd() {
	if k.paged || !k.t.Failed() && !vrvis() {
		return
	}
	ops := k.hist.operations()
	if len(ops) == 0 {
		return
	}
	res, info := porcupine.CheckOperationsVerbose(kvmodel.Model, ops, linearizabilityTimeout/4)
	verdict := map[porcupine.CheckResult]string{porcupine.Ok: "linearizable", porcupine.Illegal: "NOT linearizable",
		porcupine.Unknown: "check timed out"}[res]
	k.t.Logf("the history of the test's %d ops (%s): %s", len(ops), verdict, k.writePage(info, ops))
}

// ---------------------------------------------------------------------------
// The history and its model.

// kvHistory records every op: its call and return times on one monotonic
// clock, its input and its output.
type kvHistory struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
}

func newKVHistory() *kvHistory { return &kvHistory{start: time.Now()} }

func (h *kvHistory) now() int64 { return int64(time.Since(h.start)) }

func (h *kvHistory) add(client int, op kvvr.Op, call int64, value string, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{
		ClientId: client,
		Input:    op,
		Call:     call,
		Output:   value,
		Return:   ret,
	})
}

func (h *kvHistory) operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]porcupine.Operation(nil), h.ops...)
}

// splitTokens splits a value made of "token;" appends into its tokens.
func splitTokens(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ';' })
}
