package main

// Multi-process fault tests: a cluster of vrkv processes on loopback, with a
// fault-injecting proxy on every link between processes, under client load
// recorded for porcupine.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"vrlab/kvvr"
	"vrlab/kvvr/kvmodel"
	"vrlab/vr"
	"vrlab/vrnet"
)

// buildVrkv builds this command into a temporary directory, once per test
// binary.
var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
	buildDir  string
)

func vrkvBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "vrkv-test-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "vrkv")
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(gobin); err != nil {
			gobin = "go"
		}
		out, err := exec.Command(gobin, "build", "-o", buildPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// procCluster is n vrkv serve processes; process i reaches process j
// through links[i][j], and the test's clients reach process j through
// links[n][j].
type procCluster struct {
	t      *testing.T
	bin    string
	dir    string
	n      int
	listen []string   // the real address of each process
	links  [][]*proxy // [from][to]; from == n: the clients
	procs  []*exec.Cmd
	lives  []int
	extra  []string      // more flags for serve
	status *vrnet.Client // direct to the processes, bypassing the proxies
}

func startProcCluster(t *testing.T, n int, extra ...string) *procCluster {
	t.Helper()
	pc := &procCluster{t: t, bin: vrkvBinary(t), dir: t.TempDir(), n: n, procs: make([]*exec.Cmd, n), lives: make([]int, n), extra: extra}
	pc.listen = freeAddrs(t, n)
	pc.links = make([][]*proxy, n+1)
	for i := 0; i <= n; i++ {
		pc.links[i] = make([]*proxy, n)
		for j := 0; j < n; j++ {
			if i != j {
				pc.links[i][j] = newProxy(t, pc.listen[j])
			}
		}
	}
	var err error
	statusCfg := vrnet.Config{Peers: pc.listen, Logger: quietLogger(), CallTimeout: 300 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	if i := slices.Index(extra, "--tls"); i >= 0 {
		if statusCfg.TLS, err = vrnet.LoadTLS(extra[i+1], "client"); err != nil {
			t.Fatal(err)
		}
	}
	pc.status, err = vrnet.NewClient(statusCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pc.status.Close()
		for i := range pc.procs {
			pc.kill(i)
		}
		if t.Failed() || os.Getenv("VRKV_TEST_LOGS") != "" {
			pc.dumpLogs()
		}
	})
	for i := 0; i < n; i++ {
		pc.start(i, false)
	}
	return pc
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// clusterArg is the --cluster of process i (i == n: of a client).
func (pc *procCluster) clusterArg(i int) []string {
	addrs := make([]string, pc.n)
	for j := range addrs {
		if j == i {
			addrs[j] = pc.listen[j]
		} else {
			addrs[j] = pc.links[i][j].addr()
		}
	}
	return addrs
}

func (pc *procCluster) logPath(i int) string {
	return filepath.Join(pc.dir, fmt.Sprintf("replica-%d.log", i))
}

func (pc *procCluster) start(i int, recovering bool) {
	pc.t.Helper()
	args := []string{"serve", "--id", fmt.Sprint(i), "--cluster", strings.Join(pc.clusterArg(i), ","),
		"--listen", pc.listen[i], "--checkpoint", "200", "--log-level", "info"}
	if recovering {
		args = append(args, "--recover")
	}
	args = append(args, pc.extra...)
	f, err := os.OpenFile(pc.logPath(i), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		pc.t.Fatal(err)
	}
	defer f.Close()
	pc.lives[i]++
	fmt.Fprintf(f, "==== life %d: vrkv %s\n", pc.lives[i], strings.Join(args, " "))
	cmd := exec.Command(pc.bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		pc.t.Fatal(err)
	}
	pc.procs[i] = cmd
}

// kill sends SIGKILL to process i and reaps it.
func (pc *procCluster) kill(i int) {
	if cmd := pc.procs[i]; cmd != nil {
		cmd.Process.Signal(syscall.SIGCONT) // a stopped process dies at once either way
		cmd.Process.Kill()
		cmd.Wait()
		pc.procs[i] = nil
	}
}

func (pc *procCluster) signal(i int, sig syscall.Signal) {
	pc.t.Helper()
	if err := pc.procs[i].Process.Signal(sig); err != nil {
		pc.t.Fatalf("signal %v to replica %d: %v", sig, i, err)
	}
}

// isolate cuts (or heals) every link between process i and the other
// processes; the clients can still reach it.
func (pc *procCluster) isolate(i int, yes bool) {
	for j := 0; j < pc.n; j++ {
		if j != i {
			pc.links[i][j].block(yes)
			pc.links[j][i].block(yes)
		}
	}
}

func (pc *procCluster) state(i int) (vr.State, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	return pc.status.Status(ctx, i)
}

// eventually polls cond until it holds, or fails the test after timeout.
func (pc *procCluster) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	pc.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			pc.t.Fatalf("waited %v for %s; last seen: %s", timeout, what, detail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// primary waits for a process that says it is the primary, and returns it.
func (pc *procCluster) primary(timeout time.Duration) int {
	pc.t.Helper()
	p := -1
	pc.eventually(timeout, "a primary", func() (bool, string) {
		var seen []string
		for i := 0; i < pc.n; i++ {
			st, err := pc.state(i)
			if err == nil && st.IsPrimary {
				p = i
				return true, ""
			}
			seen = append(seen, fmt.Sprintf("R%d %v %v", i, st.Status, err))
		}
		return false, strings.Join(seen, "; ")
	})
	return p
}

// waitConverged waits until every process is normal in one view and has
// executed everything its primary committed.
func (pc *procCluster) waitConverged(timeout time.Duration) {
	pc.t.Helper()
	pc.eventually(timeout, "every replica normal in one view with every committed op executed", func() (bool, string) {
		var sts []vr.State
		for i := 0; i < pc.n; i++ {
			st, err := pc.state(i)
			if err != nil {
				return false, fmt.Sprintf("R%d: %v", i, err)
			}
			sts = append(sts, st)
		}
		for i, st := range sts {
			if st.Status != vr.Normal || st.View != sts[0].View || st.Executed != st.CommitNumber || st.CommitNumber != sts[0].CommitNumber {
				return false, fmt.Sprintf("R%d %+v; R0 %+v", i, st, sts[0])
			}
		}
		return true, ""
	})
}

func (pc *procCluster) dumpLogs() {
	for i := 0; i < pc.n; i++ {
		b, _ := os.ReadFile(pc.logPath(i))
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		pc.t.Logf("---- replica %d log (last %d lines):\n%s", i, len(lines), strings.Join(lines, "\n"))
	}
}

// freeAddrs returns n loopback addresses whose ports were free a moment
// ago. The ports come from below Linux's ephemeral range (32768 and up), so
// that while a killed replica is down no outgoing connection takes its port.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for len(addrs) < n {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.Intn(12000))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			if !slices.Contains(addrs, addr) {
				addrs = append(addrs, addr)
			}
		}
	}
	return addrs
}

// ---------------------------------------------------------------------------
// Client load and its history.

type history struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(client int, op kvvr.Op, call int64, out string, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: op, Call: call, Output: out, Return: ret})
}

type load struct {
	pc    *procCluster
	h     *history
	stop  atomic.Bool
	done  atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
	nextC int
}

const (
	opTimeout = 10 * time.Second // bound on one client op, through every fault
	faultHold = time.Second      // the least time a fault (or a quiet phase) lasts
)

func (pc *procCluster) newClerk() (*kvvr.Clerk, func()) {
	pc.t.Helper()
	c, err := vrnet.NewClient(vrnet.Config{Peers: pc.clusterArg(pc.n), Logger: quietLogger(), MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		pc.t.Fatal(err)
	}
	return kvvr.NewClerk(vr.NewClient(pc.n, c)), c.Close
}

// do runs op on ck and records it. A write that did not complete may take
// effect at any later time: it is recorded as never returning.
func (l *load) do(ck *kvvr.Clerk, client int, op kvvr.Op) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	call := l.h.now()
	var v string
	var err error
	switch op.Kind {
	case kvvr.OpGet:
		v, err = ck.GetContext(ctx, op.Key)
	case kvvr.OpPut:
		err = ck.PutContext(ctx, op.Key, op.Value)
	case kvvr.OpAppend:
		err = ck.AppendContext(ctx, op.Key, op.Value)
	}
	if err != nil {
		if op.Kind != kvvr.OpGet {
			l.h.add(client, op, call, "", math.MaxInt64)
		}
		return fmt.Errorf("client %d: %v: %w", client, op, err)
	}
	l.h.add(client, op, call, v, l.h.now())
	l.done.Add(1)
	return nil
}

// startLoad runs clients clerks doing random ops on keys k0..k4 (Get, Put,
// Append) and log0..log1 (Append only), with short random pauses.
func (pc *procCluster) startLoad(clients int) *load {
	l := &load{pc: pc, h: &history{start: time.Now()}}
	for c := 0; c < clients; c++ {
		ck, closeCk := pc.newClerk()
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer closeCk()
			rng := rand.New(rand.NewSource(time.Now().UnixNano() + int64(c)))
			for n := 0; !l.stop.Load(); n++ {
				time.Sleep(time.Duration(rng.Intn(15)) * time.Millisecond)
				key := fmt.Sprintf("k%d", rng.Intn(5))
				var op kvvr.Op
				switch r := rng.Intn(100); {
				case r < 35:
					op = kvvr.Op{Kind: kvvr.OpGet, Key: key}
				case r < 55:
					op = kvvr.Op{Kind: kvvr.OpPut, Key: key, Value: fmt.Sprintf("p%d.%d;", c, n)}
				case r < 80:
					op = kvvr.Op{Kind: kvvr.OpAppend, Key: key, Value: fmt.Sprintf("a%d.%d;", c, n)}
				default:
					op = kvvr.Op{Kind: kvvr.OpAppend, Key: fmt.Sprintf("log%d", rng.Intn(2)), Value: fmt.Sprintf("l%d.%d;", c, n)}
				}
				if err := l.do(ck, c, op); err != nil {
					l.mu.Lock()
					if l.err == nil {
						l.err = err
					}
					l.mu.Unlock()
					return
				}
			}
		}()
	}
	pc.t.Cleanup(func() { l.stop.Store(true); l.wg.Wait() })
	return l
}

// progress waits until the clients complete n more ops, and at least
// faultHold: a fault lasts long enough for timeouts and view changes to
// play out under it.
func (l *load) progress(n int, timeout time.Duration, during string) {
	l.pc.t.Helper()
	start := time.Now()
	defer func() {
		time.Sleep(faultHold - time.Since(start))
		l.pc.t.Logf("%d ops completed so far, %v %s", l.done.Load(), time.Since(start).Round(time.Millisecond), during)
	}()
	target := l.done.Load() + int64(n)
	l.pc.eventually(timeout, fmt.Sprintf("%d more ops %s", n, during), func() (bool, string) {
		l.mu.Lock()
		err := l.err
		l.mu.Unlock()
		if err != nil {
			l.pc.t.Fatalf("client load %s: %v", during, err)
		}
		d := l.done.Load()
		return d >= target, fmt.Sprintf("%d ops to go", target-d)
	})
}

func (l *load) finish() {
	l.pc.t.Helper()
	l.stop.Store(true)
	l.wg.Wait()
	if l.err != nil {
		l.pc.t.Fatalf("client load: %v", l.err)
	}
}

// check reads every key from a fresh clerk, so that the history ends with
// what the service holds. The keys k0..k4 must pass porcupine. The
// append-only keys log0 and log1 have a cheaper exact check (porcupine is
// slow on their long values): their final value must hold every
// acknowledged Append, nothing twice, nothing never appended, in an order
// consistent with real time.
func (l *load) check() {
	t := l.pc.t
	t.Helper()
	ck, closeCk := l.pc.newClerk()
	defer closeCk()
	final := map[string]string{}
	for _, key := range []string{"k0", "k1", "k2", "k3", "k4", "log0", "log1"} {
		if err := l.do(ck, 1000, kvvr.Op{Kind: kvvr.OpGet, Key: key}); err != nil {
			t.Fatalf("final read: %v", err)
		}
		l.h.mu.Lock()
		final[key] = l.h.ops[len(l.h.ops)-1].Output.(string)
		l.h.mu.Unlock()
	}
	var ops []porcupine.Operation
	logs := map[string][]porcupine.Operation{}
	l.h.mu.Lock()
	for _, op := range l.h.ops {
		if key := op.Input.(kvvr.Op).Key; strings.HasPrefix(key, "log") {
			logs[key] = append(logs[key], op)
		} else {
			ops = append(ops, op)
		}
	}
	l.h.mu.Unlock()
	acked := 0
	for key, appends := range logs {
		acked += checkAppendLog(t, key, appends, final[key])
	}

	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(kvmodel.Model, ops, 30*time.Second)
	switch res {
	case porcupine.Ok:
		t.Logf("history of %d ops on k0..k4 is linearizable (checked in %v); %d acknowledged appends to log0 and log1 all present, in real-time order",
			len(ops), time.Since(start).Round(time.Millisecond), acked)
		return
	case porcupine.Unknown:
		t.Fatalf("the linearizability check of %d ops timed out", len(ops))
	}
	var buf bytes.Buffer
	where := ""
	if err := porcupine.Visualize(kvmodel.Model, info, &buf); err == nil {
		p := filepath.Join(os.TempDir(), fmt.Sprintf("vrkv-history-%d.html", time.Now().UnixNano()))
		if os.WriteFile(p, buf.Bytes(), 0o644) == nil {
			where = "; see " + p
		}
	}
	t.Fatalf("the history of %d ops is not linearizable%s", len(ops), where)
}

// checkAppendLog checks the final value of an append-only key against the
// Appends to it (ops, with Gets that it ignores): every acknowledged Append
// is in it exactly once, every token in it was appended, and an Append that
// returned before another was called comes first. It returns the number of
// acknowledged Appends.
func checkAppendLog(t *testing.T, key string, ops []porcupine.Operation, final string) int {
	t.Helper()
	byToken := map[string]porcupine.Operation{}
	for _, op := range ops {
		if in := op.Input.(kvvr.Op); in.Kind == kvvr.OpAppend {
			byToken[in.Value] = op
		}
	}
	var present []porcupine.Operation
	pos := map[string]int{}
	for _, tok := range strings.FieldsFunc(final, func(r rune) bool { return r == ';' }) {
		tok += ";"
		op, ok := byToken[tok]
		switch {
		case !ok:
			t.Fatalf("%s holds %q, which no client appended", key, tok)
		case pos[tok] > 0:
			t.Fatalf("%s holds Append(%q) twice: an op executed twice", key, tok)
		}
		present = append(present, op)
		pos[tok] = len(present)
	}
	acked := 0
	for tok, op := range byToken {
		if op.Return != math.MaxInt64 {
			acked++
			if pos[tok] == 0 {
				t.Fatalf("acknowledged Append(%q, %q) is missing from the final value (%d bytes): an acknowledged write was lost",
					key, tok, len(final))
			}
		}
	}
	for i, x := range present {
		for _, y := range present[i+1:] {
			if y.Return < x.Call {
				t.Fatalf("%s holds %q before %q, but the second Append returned before the first was called",
					key, x.Input.(kvvr.Op).Value, y.Input.(kvvr.Op).Value)
			}
		}
	}
	return acked
}

// ---------------------------------------------------------------------------
// The tests.

// TestProcessFaults runs a 3-process cluster under client load through
// kill -9 of the primary and its restart with recovery, SIGSTOP/SIGCONT of
// a backup, and a partition isolating the primary; then the whole history
// must be linearizable and no acknowledged write lost.
func TestProcessFaults(t *testing.T) {
	pc := startProcCluster(t, 3)
	pc.primary(10 * time.Second)
	l := pc.startLoad(4)
	l.progress(50, 10*time.Second, "at the start")

	// kill -9 the primary; the others go on; it restarts and recovers.
	p := pc.primary(5 * time.Second)
	t.Logf("kill -9 of the primary R%d", p)
	pc.kill(p)
	l.progress(100, 15*time.Second, fmt.Sprintf("after kill -9 of the primary R%d", p))
	if q := pc.primary(5 * time.Second); q == p {
		t.Fatalf("R%d is primary again while dead", q)
	}
	pc.start(p, true)
	pc.eventually(15*time.Second, fmt.Sprintf("R%d to recover", p), func() (bool, string) {
		st, err := pc.state(p)
		return err == nil && st.Status == vr.Normal, fmt.Sprintf("%+v %v", st, err)
	})
	l.progress(50, 10*time.Second, fmt.Sprintf("after R%d recovered", p))

	// SIGSTOP a backup; the others go on; SIGCONT, and it catches up.
	p = pc.primary(5 * time.Second)
	b := (p + 1) % pc.n
	t.Logf("SIGSTOP of backup R%d (primary R%d)", b, p)
	pc.signal(b, syscall.SIGSTOP)
	l.progress(100, 15*time.Second, fmt.Sprintf("with backup R%d stopped", b))
	pc.signal(b, syscall.SIGCONT)
	l.progress(50, 10*time.Second, fmt.Sprintf("after SIGCONT of R%d", b))

	// Partition the primary from the other replicas (clients still reach
	// it); they elect another; heal.
	p = pc.primary(5 * time.Second)
	t.Logf("partition isolating the primary R%d", p)
	pc.isolate(p, true)
	l.progress(100, 15*time.Second, fmt.Sprintf("with the primary R%d partitioned away", p))
	pc.eventually(5*time.Second, "a new primary in the majority", func() (bool, string) {
		for i := 0; i < pc.n; i++ {
			if st, err := pc.state(i); i != p && err == nil && st.IsPrimary {
				return true, ""
			}
		}
		return false, "none"
	})
	pc.isolate(p, false)
	t.Logf("partition healed")
	l.progress(50, 10*time.Second, "after the partition healed")

	l.finish()
	pc.waitConverged(15 * time.Second)
	l.check()
}

// TestProcessCLI runs the client commands against a process cluster, and
// checks that a replica shuts down cleanly on SIGTERM.
func TestProcessCLI(t *testing.T) {
	pc := startProcCluster(t, 3)
	pc.primary(10 * time.Second)
	pc.vrkv("put", "greeting", "hello")
	pc.vrkv("append", "greeting", ", world")
	if got := pc.vrkv("get", "greeting"); got != "hello, world\n" {
		t.Fatalf("vrkv get printed %q, expected %q", got, "hello, world\n")
	}
	if got := pc.vrkv("status"); strings.Count(got, "normal") != 3 {
		t.Fatalf("vrkv status printed:\n%s", got)
	}
	pc.signal(2, syscall.SIGTERM)
	err := pc.procs[2].Wait()
	pc.procs[2] = nil
	if err != nil {
		t.Fatalf("replica 2 exited with %v on SIGTERM", err)
	}
	if b, _ := os.ReadFile(pc.logPath(2)); !bytes.Contains(b, []byte("msg=stopped")) {
		t.Fatalf("replica 2's log has no clean shutdown:\n%s", b)
	}
	// Two of three still serve.
	if got := pc.vrkv("get", "greeting"); got != "hello, world\n" {
		t.Fatalf("vrkv get printed %q after a replica stopped", got)
	}
	var ee *exec.ExitError
	if _, err := exec.Command(pc.bin, "get", "greeting").CombinedOutput(); !errors.As(err, &ee) {
		t.Fatalf("vrkv get without --cluster: %v, expected a failure", err)
	}
}

// TestProcessLease runs a cluster with --lease: Gets (vrkv get, and the
// reads of vrkv bench --reads 100) are answered by the primary from its
// state, adding nothing to its log.
func TestProcessLease(t *testing.T) {
	pc := startProcCluster(t, 3, "--lease", "20")
	p := pc.primary(10 * time.Second)
	pc.vrkv("put", "greeting", "hello")
	before, err := pc.state(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := pc.vrkv("get", "greeting"); got != "hello\n" {
		t.Fatalf("vrkv get printed %q, expected %q", got, "hello\n")
	}
	out := pc.vrkv("bench", "-c", "4", "-d", "1s", "--reads", "100")
	after, err := pc.state(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "reads 100%") || after.OpNumber-before.OpNumber > 20 {
		t.Fatalf("with --lease, a Get and a second of reads added %d ops to R%d's log (op-number %d, then %d); vrkv bench printed %q",
			after.OpNumber-before.OpNumber, p, before.OpNumber, after.OpNumber, out)
	}
}

// TestProcessTLS runs a cluster with mutual TLS: a client with the
// cluster's certificate gets through, one without is refused.
func TestProcessTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	if out, err := exec.Command(vrkvBinary(t), "certs", "--dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("vrkv certs: %v\n%s", err, out)
	}
	pc := startProcCluster(t, 3, "--tls", dir)
	pc.primary(10 * time.Second)
	cluster := strings.Join(pc.listen, ",")
	out, err := exec.Command(pc.bin, "put", "--cluster", cluster, "--tls", dir, "k", "secret").CombinedOutput()
	if err != nil {
		t.Fatalf("vrkv put over TLS: %v\n%s", err, out)
	}
	out, err = exec.Command(pc.bin, "get", "--cluster", cluster, "--timeout", "1s", "k").CombinedOutput()
	if err == nil {
		t.Fatalf("vrkv get without TLS succeeded: %s", out)
	}
	out, err = exec.Command(pc.bin, "get", "--cluster", cluster, "--tls", dir, "k").CombinedOutput()
	if err != nil || string(out) != "secret\n" {
		t.Fatalf("vrkv get over TLS: %q, %v", out, err)
	}
	pc.eventually(5*time.Second, "a refused handshake in a replica's log", func() (bool, string) {
		for i := 0; i < pc.n; i++ {
			if b, _ := os.ReadFile(pc.logPath(i)); bytes.Contains(b, []byte("TLS handshake")) {
				return true, ""
			}
		}
		return false, "none yet"
	})
}
