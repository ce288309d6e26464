package vrnet

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"vrlab/kvvr"
	"vrlab/vr"
)

// freeAddrs returns n loopback addresses whose ports were free a moment
// ago, from below Linux's ephemeral range (32768 and up), so that no
// outgoing connection takes the port of a replica while it is down.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for len(addrs) < n {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			if !slices.Contains(addrs, addr) {
				addrs = append(addrs, addr)
			}
		}
	}
	return addrs
}

// logBuf collects log lines, safely from many goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type testCluster struct {
	t     *testing.T
	addrs []string
	reps  []*Replica
	logs  *logBuf
	tls   *tls.Config
	opts  vr.Options // of every replica (Recovering is set by start)
}

// startCluster starts n replicas; members, if any, is the epoch-0
// configuration (the others are standbys).
func startCluster(t *testing.T, n int, tlsCfg *tls.Config, members ...int) *testCluster {
	return startClusterOpts(t, n, tlsCfg, vr.Options{Members: members})
}

func startClusterOpts(t *testing.T, n int, tlsCfg *tls.Config, opts vr.Options) *testCluster {
	t.Helper()
	tc := &testCluster{t: t, addrs: freeAddrs(t, n), reps: make([]*Replica, n), logs: &logBuf{}, tls: tlsCfg, opts: opts}
	for i := 0; i < n; i++ {
		tc.start(i, false)
	}
	t.Cleanup(func() {
		for _, r := range tc.reps {
			if r != nil {
				r.Close()
			}
		}
	})
	return tc
}

func (tc *testCluster) config(id int) Config {
	return Config{ID: id, Peers: tc.addrs, TLS: tc.tls, Logger: slog.New(slog.NewTextHandler(tc.logs, nil)),
		MaxBackoff: 200 * time.Millisecond}
}

func (tc *testCluster) start(i int, recovering bool) {
	tc.t.Helper()
	opts := tc.opts
	opts.Recovering = recovering
	r, err := StartReplica(tc.config(i), kvvr.NewStore(), opts)
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.reps[i] = r
}

func (tc *testCluster) clerk(cfg Config) (*kvvr.Clerk, *Client) {
	tc.t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.t.Cleanup(c.Close)
	return kvvr.NewClerk(vr.NewClient(len(cfg.Peers), c)), c
}

func TestPutGetAndPrimaryCrash(t *testing.T) {
	tc := startCluster(t, 3, nil)
	ck, cl := tc.clerk(tc.config(-1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ck.PutContext(ctx, "x", "1"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := ck.AppendContext(ctx, "x", "2"); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if v, err := ck.GetContext(ctx, "x"); err != nil || v != "12" {
		t.Fatalf("Get(x) = %q, %v; expected \"12\"", v, err)
	}
	primary := -1
	for i := range tc.reps {
		if st, err := cl.Status(ctx, i); err == nil && st.IsPrimary {
			primary = i
		}
	}
	if primary < 0 {
		t.Fatal("no replica says it is the primary")
	}
	// Crash the primary: the others elect a new one; then it recovers.
	tc.reps[primary].Close()
	if err := ck.AppendContext(ctx, "x", "3"); err != nil {
		t.Fatalf("Append after the primary crashed: %v", err)
	}
	tc.start(primary, true)
	for {
		st, err := cl.Status(ctx, primary)
		if err == nil && st.Status == vr.Normal {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("R%d did not recover: %+v %v", primary, st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v, err := ck.GetContext(ctx, "x"); err != nil || v != "123" {
		t.Fatalf("Get(x) = %q, %v; expected \"123\"", v, err)
	}
}

// TestSharedConnection: many clerks over one vrnet.Client, each appending
// to its own key from its own goroutine, across a primary crash. Every
// reply must reach its own call (each key ends with exactly its clerk's
// appends, in order), and under that load the requests must share writes.
func TestSharedConnection(t *testing.T) {
	tc := startCluster(t, 3, nil)
	shared, err := NewClient(tc.config(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(shared.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const clerks, appends = 32, 30
	var wg sync.WaitGroup
	errs := make(chan error, clerks)
	crash := make(chan struct{})
	for k := range clerks {
		ck := kvvr.NewClerk(vr.NewClient(len(tc.addrs), shared))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range appends {
				if k == 0 && i == appends/2 {
					close(crash) // half way through, for everyone
				}
				if err := ck.AppendContext(ctx, fmt.Sprint("k", k), fmt.Sprintf("%d,", i)); err != nil {
					errs <- fmt.Errorf("clerk %d, append %d: %w", k, i, err)
					return
				}
			}
		}()
	}
	<-crash
	for i := range tc.reps {
		if st := tc.reps[i].Node().State(); st.IsPrimary {
			tc.reps[i].Close()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ck := kvvr.NewClerk(vr.NewClient(len(tc.addrs), shared))
	for k := range clerks {
		var want strings.Builder
		for i := range appends {
			fmt.Fprintf(&want, "%d,", i)
		}
		if v, err := ck.GetContext(ctx, fmt.Sprint("k", k)); err != nil || v != want.String() {
			t.Fatalf("Get(k%d) = %q, %v; expected clerk %d's %d appends in order, each once: %q", k, v, err, k, appends, want.String())
		}
	}
	st := shared.Stats()
	if st.Writes == 0 || st.Frames < 2*st.Writes {
		t.Errorf("%d clerks on one connection sent %d frames in %d writes; expected the writes to coalesce (at least 2 frames per write on average)", clerks, st.Frames, st.Writes)
	}
	t.Logf("%d frames in %d writes (%.1f per write)", st.Frames, st.Writes, float64(st.Frames)/float64(st.Writes))
}

// TestReconfigureOverTCP: a group of three with two standbys moves to the
// configuration of one old member and the two standbys, over TCP: the
// request, the epoch messages, the refusal of a repeat, and the states
// that status reports carry the fields of epochs. The data survives the
// move, and the new group serves without the two removed replicas.
func TestReconfigureOverTCP(t *testing.T) {
	tc := startCluster(t, 5, nil, 0, 1, 2)
	ck, cl := tc.clerk(tc.config(-1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ck.PutContext(ctx, "x", "1"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	// waitStates polls every replica's status until want holds for each.
	waitStates := func(what string, want func(i int, st vr.State) bool) {
		t.Helper()
		for {
			ok, seen := true, ""
			for i := range tc.reps {
				st, err := cl.Status(ctx, i)
				seen += fmt.Sprintf("\n  R%d: %+v %v", i, st, err)
				ok = ok && err == nil && want(i, st)
			}
			if ok {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("waited 30s for %s; last seen:%s", what, seen)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitStates("R3 and R4 standbys of epoch 0 [0 1 2]", func(i int, st vr.State) bool {
		return st.Epoch == 0 && slices.Equal(st.Members, []int{0, 1, 2}) && (st.Status == vr.Standby) == (i >= 3)
	})

	admin, err := NewClient(tc.config(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	vc := vr.NewClient(len(tc.addrs), admin)
	if err := vc.ReconfigureContext(ctx, []int{2, 3, 4}); err != nil {
		t.Fatalf("Reconfigure([2 3 4]): %v", err)
	}
	if members, epoch := vc.Members(); epoch != 1 || !slices.Equal(members, []int{2, 3, 4}) {
		t.Fatalf("after Reconfigure the client knows epoch %d %v; expected epoch 1 [2 3 4]", epoch, members)
	}
	err = vc.ReconfigureContext(ctx, []int{2, 3, 4})
	if err == nil || !strings.Contains(err.Error(), "already in force") {
		t.Fatalf("Reconfigure to the configuration in force returned %v; expected the primary's refusal (already in force)", err)
	}
	waitStates("epoch 1 [2 3 4] normal, R0 and R1 retired standbys", func(i int, st vr.State) bool {
		if st.Epoch != 1 || !slices.Equal(st.Members, []int{2, 3, 4}) || st.EpochStart == 0 {
			return false
		}
		if i < 2 {
			return st.Status == vr.Standby && st.Retired
		}
		return st.Status == vr.Normal && !st.Retired
	})
	tc.reps[0].Close()
	tc.reps[1].Close()
	if err := ck.AppendContext(ctx, "x", "2"); err != nil {
		t.Fatalf("Append in the new configuration: %v", err)
	}
	if v, err := ck.GetContext(ctx, "x"); err != nil || v != "12" {
		t.Fatalf("Get(x) = %q, %v; expected \"12\"", v, err)
	}
}

// TestLeaseReadsOverTCP: with leases on, Gets over TCP are answered by
// the primary from its state: they see every write, and add nothing to the
// log (the Node's clock is the monotonic clock).
func TestLeaseReadsOverTCP(t *testing.T) {
	tc := startClusterOpts(t, 3, nil, vr.Options{LeaseTicks: 20})
	ck, cl := tc.clerk(tc.config(-1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ck.PutContext(ctx, "x", "1"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	opNumber := func() (int, int) {
		for i := range tc.reps {
			if st, err := cl.Status(ctx, i); err == nil && st.IsPrimary {
				return i, st.OpNumber
			}
		}
		t.Fatal("no replica says it is the primary")
		return -1, 0
	}
	p, before := opNumber()
	const reads = 200
	for i := 0; i < reads; i++ {
		if v, err := ck.GetContext(ctx, "x"); err != nil || v != "1" {
			t.Fatalf("Get(x) = %q, %v; expected \"1\"", v, err)
		}
	}
	// A read that found a lease just lapsed goes through the log: allow a few.
	if p2, after := opNumber(); p2 != p || after-before > reads/10 {
		t.Fatalf("%d Gets added %d ops to the log of R%d (then R%d primary); with leases on, nearly all must be lease reads", reads, after-before, p, p2)
	}
}

// rawConn dials addr and says hello as h (nil: no hello).
func rawConn(t *testing.T, addr string, h *hello) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if h != nil {
		c.Write(appendFrame(nil, kindHello, func(b []byte) []byte { return appendHello(b, *h) }))
	}
	return c
}

// expectClosed fails unless the replica closes c within a few seconds.
func expectClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("%s: the replica did not close the connection: %v", what, err)
	}
}

func TestBadFramesClosed(t *testing.T) {
	tc := startCluster(t, 3, nil)
	addr := tc.addrs[0]
	commit := vr.Message{Type: vr.MsgCommit, From: 1, To: 0}
	msgFrame := func(m vr.Message) []byte {
		return appendFrame(nil, kindMessage, func(b []byte) []byte { return appendMessage(b, &m) })
	}
	cases := []struct {
		name  string
		hello *hello
		send  []byte
		log   string
	}{
		{"garbage", nil, []byte("GET / HTTP/1.1\r\n\r\n"), "bad frame"},
		{"oversized", nil, []byte{0x7f, 0xff, 0xff, 0xff, Version, kindHello}, "bad frame"},
		{"unknown replica", &hello{Role: roleReplica, ID: 7, NPeer: 3}, nil, "not another replica"},
		{"wrong cluster size", &hello{Role: roleReplica, ID: 1, NPeer: 5}, nil, "cluster of 5"},
		{"forged sender", &hello{Role: roleReplica, ID: 2, NPeer: 3}, msgFrame(commit), "sent COMMIT from 1"},
		{"malformed message", &hello{Role: roleReplica, ID: 1, NPeer: 3}, []byte{0, 0, 0, 4, Version, kindMessage, 1, 2}, "replica 1: message"},
		{"client sends a message", &hello{Role: roleClient, ID: -1, NPeer: 3}, msgFrame(commit), "client sent a frame"},
	}
	for _, c := range cases {
		conn := rawConn(t, addr, c.hello)
		conn.Write(c.send)
		expectClosed(t, conn, c.name)
		deadline := time.Now().Add(2 * time.Second)
		for !strings.Contains(tc.logs.String(), c.log) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no log line containing %q; log:\n%s", c.name, c.log, tc.logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The cluster still works.
	ck, _ := tc.clerk(tc.config(-1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ck.PutContext(ctx, "k", "v"); err != nil {
		t.Fatalf("Put after the bad frames: %v", err)
	}
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	if err := GenerateDevCerts(dir, nil); err != nil {
		t.Fatal(err)
	}
	replicaTLS, err := LoadTLS(dir, "replica")
	if err != nil {
		t.Fatal(err)
	}
	clientTLS, err := LoadTLS(dir, "client")
	if err != nil {
		t.Fatal(err)
	}
	tc := startCluster(t, 3, replicaTLS)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	cfg := tc.config(-1)
	cfg.TLS = clientTLS
	ck, _ := tc.clerk(cfg)
	if err := ck.PutContext(ctx, "k", "v"); err != nil {
		t.Fatalf("Put over TLS: %v", err)
	}

	// A plain-TCP client, and one whose certificate another CA signed, are
	// refused.
	other := t.TempDir()
	if err := GenerateDevCerts(other, nil); err != nil {
		t.Fatal(err)
	}
	strangerTLS, err := LoadTLS(other, "client")
	if err != nil {
		t.Fatal(err)
	}
	for name, tlsCfg := range map[string]*tls.Config{"plain TCP": nil, "foreign CA": strangerTLS} {
		cfg := tc.config(-1)
		cfg.TLS = tlsCfg
		cfg.MaxBackoff = 50 * time.Millisecond
		bad, _ := tc.clerk(cfg)
		short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		err := bad.PutContext(short, "k", "stranger")
		cancel()
		if err == nil {
			t.Fatalf("a client with %s got its Put through", name)
		}
	}
	if !strings.Contains(tc.logs.String(), "TLS handshake") {
		t.Fatalf("no refused TLS handshake logged; log:\n%s", tc.logs.String())
	}

	// A client certificate may not say hello as a replica.
	conn, err := tls.Dial("tcp", tc.addrs[0], clientTLSFor(clientTLS, tc.addrs[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(appendFrame(nil, kindHello, func(b []byte) []byte { return appendHello(b, hello{Role: roleReplica, ID: 1, NPeer: 3}) }))
	expectClosed(t, conn, "client certificate as a replica")
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(tc.logs.String(), "is not a replica's") {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal of a client certificate as a replica logged; log:\n%s", tc.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v, err := ck.GetContext(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("Get(k) = %q, %v; expected \"v\"", v, err)
	}
}

func clientTLSFor(cfg *tls.Config, addr string) *tls.Config { return clientTLS(cfg, addr) }
