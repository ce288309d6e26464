package labrpc

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

// prompt is how long a call may take when it is supposed to return at once
// or with only a short delay. It is generous so the race detector on a busy
// two-core machine never makes the tests flaky.
const prompt = 2 * time.Second

type EchoArgs struct {
	X int
	S string
}

type EchoReply struct {
	X int
	S string
}

// Calc is the service used by most tests.
type Calc struct {
	entered chan struct{} // Slow announces itself here
	release chan struct{} // and blocks until this is closed
}

func newCalc() *Calc {
	return &Calc{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (c *Calc) Echo(args *EchoArgs, reply *EchoReply) { *reply = EchoReply(*args) }

func (c *Calc) Double(args *int, reply *int) { *reply = 2 * *args }

func (c *Calc) Concat(args *[]string, reply *string) { *reply = strings.Join(*args, "+") }

func (c *Calc) Keys(args *map[string]int, reply *[]string) {
	for k := range *args {
		*reply = append(*reply, k)
	}
	sort.Strings(*reply)
}

func (c *Calc) Slow(args *int, reply *int) {
	c.entered <- struct{}{}
	<-c.release
	*reply = *args
}

// Kill has the wrong shape for a handler, so it must not be exposed.
func (c *Calc) Kill() {}

type fixture struct {
	net  *Network
	end  *ClientEnd
	calc *Calc
}

// setup builds a network with one Calc server "s" and an enabled end "e"
// connected to it. Everything is torn down when the test ends.
func setup(t testing.TB) *fixture {
	net := MakeNetwork()
	calc := newCalc()
	srv := MakeServer()
	srv.AddService(MakeService(calc))
	net.AddServer("s", srv)
	end := net.MakeEnd("e")
	net.Connect("e", "s")
	net.Enable("e", true)
	t.Cleanup(func() {
		net.Cleanup()
		close(calc.release) // let any blocked Slow handler finish
	})
	return &fixture{net: net, end: end, calc: calc}
}

// callAsync starts a call and returns a channel that yields its result.
func callAsync(end *ClientEnd, svcMeth string, args, reply any) <-chan bool {
	done := make(chan bool, 1)
	go func() { done <- end.Call(svcMeth, args, reply) }()
	return done
}

// waitResult fails the test if the call does not finish within limit.
func waitResult(t *testing.T, done <-chan bool, limit time.Duration, what string) bool {
	t.Helper()
	select {
	case ok := <-done:
		return ok
	case <-time.After(limit):
		require.FailNowf(t, "call did not return promptly", "%s: still blocked after %v", what, limit)
		return false
	}
}

// waitEntered waits until n Slow handlers are running.
func waitEntered(t *testing.T, c *Calc, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-c.entered:
		case <-time.After(prompt):
			require.FailNow(t, "Slow handler was never invoked")
		}
	}
}

func TestBasicCall(t *testing.T) {
	f := setup(t)

	var reply EchoReply
	require.True(t, f.end.Call("Calc.Echo", &EchoArgs{X: 7, S: "hi"}, &reply))
	require.Equal(t, EchoReply{X: 7, S: "hi"}, reply)
}

func TestArgumentAndReplyTypes(t *testing.T) {
	f := setup(t)

	var n int
	require.True(t, f.end.Call("Calc.Double", 21, &n), "args by value")
	require.Equal(t, 42, n)

	arg := 5
	var m int
	require.True(t, f.end.Call("Calc.Double", &arg, &m), "args by pointer")
	require.Equal(t, 10, m)

	var s string
	require.True(t, f.end.Call("Calc.Concat", []string{"a", "b", "c"}, &s))
	require.Equal(t, "a+b+c", s)

	var keys []string
	require.True(t, f.end.Call("Calc.Keys", map[string]int{"y": 1, "x": 2}, &keys))
	require.Equal(t, []string{"x", "y"}, keys)
}

func TestDisabledEndFails(t *testing.T) {
	f := setup(t)

	f.net.Enable("e", false)
	var n int
	require.False(t, f.end.Call("Calc.Double", 1, &n))
	require.Zero(t, f.net.GetCount("s"), "a disabled end must not reach the server")

	f.net.Enable("e", true)
	require.True(t, f.end.Call("Calc.Double", 1, &n))
	require.Equal(t, 2, n)
}

// A link cut one way: the request arrives and the handler runs (the
// server counts it), but the reply never comes back.
func TestRepliesCutOneWay(t *testing.T) {
	f := setup(t)

	f.net.EnableReplies("e", false)
	n := -1
	require.False(t, f.end.Call("Calc.Double", 3, &n), "with replies cut, Call must fail")
	require.Equal(t, -1, n, "a lost reply must not be decoded into the caller's variable")
	require.Equal(t, 1, f.net.GetCount("s"), "with replies cut, the request must still reach the server")

	f.net.EnableReplies("e", true)
	require.True(t, f.end.Call("Calc.Double", 3, &n))
	require.Equal(t, 6, n)
}

func TestReenabledEndWorksPromptly(t *testing.T) {
	f := setup(t)

	f.net.Enable("e", false)
	var n int
	require.False(t, f.end.Call("Calc.Double", 1, &n))
	f.net.Enable("e", true)

	start := time.Now()
	require.True(t, f.end.Call("Calc.Double", 4, &n))
	require.Equal(t, 8, n)
	require.Less(t, time.Since(start), prompt)
}

func TestUnconnectedEndAndMissingServerFail(t *testing.T) {
	f := setup(t)
	var n int

	loose := f.net.MakeEnd("loose")
	f.net.Enable("loose", true)
	require.False(t, loose.Call("Calc.Double", 1, &n), "unconnected end")

	nowhere := f.net.MakeEnd("nowhere")
	f.net.Connect("nowhere", "no-such-server")
	f.net.Enable("nowhere", true)
	require.False(t, nowhere.Call("Calc.Double", 1, &n), "missing server")

	f.net.DeleteServer("s")
	require.False(t, f.end.Call("Calc.Double", 1, &n), "deleted server")
	require.Zero(t, f.net.GetCount("s"))
}

func TestDeleteEnd(t *testing.T) {
	f := setup(t)

	f.net.DeleteEnd("e")
	var n int
	require.False(t, f.end.Call("Calc.Double", 1, &n))

	again := f.net.MakeEnd("e")
	f.net.Connect("e", "s")
	f.net.Enable("e", true)
	require.True(t, again.Call("Calc.Double", 1, &n))
}

func TestMakeEndTwicePanics(t *testing.T) {
	f := setup(t)
	require.Panics(t, func() { f.net.MakeEnd("e") })
}

func TestCountsAreExact(t *testing.T) {
	f := setup(t)
	const delivered, refused = 17, 3

	for i := 0; i < delivered; i++ {
		var n int
		require.True(t, f.end.Call("Calc.Double", i, &n))
	}
	f.net.Enable("e", false)
	for i := 0; i < refused; i++ {
		var n int
		require.False(t, f.end.Call("Calc.Double", i, &n))
	}

	require.Equal(t, delivered, f.net.GetCount("s"))
	require.Equal(t, delivered+refused, f.net.GetTotalCount())
	require.Zero(t, f.net.GetCount("unknown"))
}

func TestTotalBytesGrowWithPayload(t *testing.T) {
	f := setup(t)

	// Echo sends the payload in both directions, so a call should cost a
	// little more than twice the payload: gob adds a small type header.
	bytesFor := func(size int) int64 {
		before := f.net.GetTotalBytes()
		var reply EchoReply
		require.True(t, f.end.Call("Calc.Echo", EchoArgs{S: strings.Repeat("x", size)}, &reply))
		require.Len(t, reply.S, size)
		return f.net.GetTotalBytes() - before
	}

	const overhead = 500
	for _, size := range []int{1_000, 10_000, 100_000} {
		got := bytesFor(size)
		require.GreaterOrEqual(t, got, int64(2*size), "size %d", size)
		require.LessOrEqual(t, got, int64(2*size+overhead), "size %d", size)
	}
}

func TestManyConcurrentCalls(t *testing.T) {
	f := setup(t)
	const clients, callsEach = 100, 10

	var g errgroup.Group
	for c := 0; c < clients; c++ {
		g.Go(func() error {
			for i := 0; i < callsEach; i++ {
				arg := EchoArgs{X: c*1000 + i, S: fmt.Sprint(c)}
				var reply EchoReply
				if !f.end.Call("Calc.Echo", arg, &reply) {
					return fmt.Errorf("client %d call %d failed", c, i)
				}
				if EchoArgs(reply) != arg {
					return fmt.Errorf("client %d call %d: got %+v, want %+v", c, i, reply, arg)
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	require.Equal(t, clients*callsEach, f.net.GetCount("s"))
	require.Equal(t, clients*callsEach, f.net.GetTotalCount())
}

func TestUnreliableNetworkLosesSomeCalls(t *testing.T) {
	f := setup(t)
	f.net.Reliable(false)
	const clients, callsEach = 30, 10
	const total = clients * callsEach

	var mu sync.Mutex
	succeeded := 0
	var g errgroup.Group
	for c := 0; c < clients; c++ {
		g.Go(func() error {
			for i := 0; i < callsEach; i++ {
				var n int
				if f.end.Call("Calc.Double", i, &n) {
					if n != 2*i {
						return fmt.Errorf("Double(%d) = %d", i, n)
					}
					mu.Lock()
					succeeded++
					mu.Unlock()
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())

	// Each call survives with probability 0.9 * 0.9 = 0.81.
	rate := float64(succeeded) / total
	require.InDelta(t, 0.775, rate, 0.175, "success rate %.2f outside [0.6, 0.95]", rate)
	require.Equal(t, total, f.net.GetTotalCount())
	delivered := f.net.GetCount("s")
	require.GreaterOrEqual(t, delivered, succeeded, "replies lost after delivery are still delivered")
	require.Less(t, delivered, total, "some requests should have been dropped")
}

func TestDeleteServerDuringCallFailsPromptly(t *testing.T) {
	f := setup(t)

	var n int
	done := callAsync(f.end, "Calc.Slow", 1, &n)
	waitEntered(t, f.calc, 1)
	f.net.DeleteServer("s")

	require.False(t, waitResult(t, done, prompt, "Call after DeleteServer"),
		"reply from a deleted server must be discarded")
}

func TestDisableDuringCallFailsPromptly(t *testing.T) {
	f := setup(t)

	var n int
	done := callAsync(f.end, "Calc.Slow", 1, &n)
	waitEntered(t, f.calc, 1)
	f.net.Enable("e", false)

	require.False(t, waitResult(t, done, prompt, "Call after Enable(false)"))
}

func TestReplyAfterServerReplacedIsDiscarded(t *testing.T) {
	f := setup(t)

	var n int
	done := callAsync(f.end, "Calc.Slow", 1, &n)
	waitEntered(t, f.calc, 1)
	fresh := MakeServer()
	fresh.AddService(MakeService(newCalc()))
	f.net.AddServer("s", fresh) // a "rebooted" server

	require.False(t, waitResult(t, done, prompt, "Call after AddServer replaced the server"))
	require.True(t, f.end.Call("Calc.Double", 1, &n), "the new server answers")
}

func TestUnknownMethodFailsWithoutPanic(t *testing.T) {
	f := setup(t)

	var n int
	for _, name := range []string{"Calc.Nope", "Nope.Double", "nodot", "Calc.Kill"} {
		require.NotPanics(t, func() {
			require.False(t, f.end.Call(name, 1, &n), name)
		})
	}
}

func TestUnknownMethodErrorNamesTheChoices(t *testing.T) {
	srv := MakeServer()
	srv.AddService(MakeService(newCalc()))

	_, err := srv.dispatch("Calc.Nope", nil)
	require.EqualError(t, err,
		`labrpc: unknown method "Calc.Nope"; service Calc has: Concat, Double, Echo, Keys, Slow`)

	_, err = srv.dispatch("VR.Prepare", nil)
	require.EqualError(t, err, `labrpc: unknown service "VR" in "VR.Prepare"; server has: Calc`)
}

// Relay is a handler that makes a call of its own, to check that the
// network holds no lock while handlers run.
type Relay struct{ next *ClientEnd }

func (r *Relay) Forward(args *int, reply *int) {
	r.next.Call("Calc.Double", args, reply)
}

func TestHandlerCanMakeCalls(t *testing.T) {
	f := setup(t)
	relaySrv := MakeServer()
	relaySrv.AddService(MakeService(&Relay{next: f.end}))
	f.net.AddServer("relay", relaySrv)
	toRelay := f.net.MakeEnd("to-relay")
	f.net.Connect("to-relay", "relay")
	f.net.Enable("to-relay", true)

	var n int
	require.True(t, toRelay.Call("Relay.Forward", 8, &n))
	require.Equal(t, 16, n)
}

func TestSeedMakesDropsReproducible(t *testing.T) {
	const seed, calls = 12345, 30

	outcomes := func() []bool {
		f := setup(t)
		f.net.Seed(seed)
		f.net.Reliable(false)
		got := make([]bool, calls)
		for i := range got {
			var n int
			got[i] = f.end.Call("Calc.Double", i, &n)
		}
		return got
	}

	// The two networks are independent, so run them side by side.
	var a, b []bool
	var wg sync.WaitGroup
	wg.Go(func() { a = outcomes() })
	wg.Go(func() { b = outcomes() })
	wg.Wait()

	require.Equal(t, a, b)
	require.Contains(t, a, true)
	require.Contains(t, a, false)
}

func TestLongReorderingDelaysSomeReplies(t *testing.T) {
	f := setup(t)
	f.net.LongReordering(true)
	const calls = 16 // all replies on time with probability 0.34^16 < 1e-7

	var mu sync.Mutex
	var slowest time.Duration
	var g errgroup.Group
	for i := 0; i < calls; i++ {
		g.Go(func() error {
			start := time.Now()
			var n int
			if !f.end.Call("Calc.Double", i, &n) {
				return fmt.Errorf("call %d failed on a reliable network", i)
			}
			mu.Lock()
			slowest = max(slowest, time.Since(start))
			mu.Unlock()
			return nil
		})
	}
	require.NoError(t, g.Wait())
	require.GreaterOrEqual(t, slowest, 200*time.Millisecond)
}

func TestCleanupStopsCallsAndLeavesNoGoroutines(t *testing.T) {
	baseline := runtime.NumGoroutine()

	net := MakeNetwork()
	calc := newCalc()
	srv := MakeServer()
	srv.AddService(MakeService(calc))
	net.AddServer("s", srv)
	end := net.MakeEnd("e")
	net.Connect("e", "s")
	net.Enable("e", true)
	net.LongDelays(true)
	cut := net.MakeEnd("cut") // disabled: its calls wait up to 7s to fail

	const pending = 5
	var results []<-chan bool
	for i := 0; i < pending; i++ {
		var n int
		results = append(results, callAsync(end, "Calc.Slow", i, &n))
	}
	var n int
	results = append(results, callAsync(cut, "Calc.Double", 1, &n))
	waitEntered(t, calc, pending)

	net.Cleanup()
	for i, done := range results {
		require.False(t, waitResult(t, done, prompt, fmt.Sprintf("pending call %d after Cleanup", i)))
	}

	start := time.Now()
	require.False(t, end.Call("Calc.Double", 1, &n))
	require.False(t, cut.Call("Calc.Double", 1, &n))
	require.Less(t, time.Since(start), prompt, "calls after Cleanup must not block")

	close(calc.release) // the handlers themselves belong to the test
	waitForGoroutines(t, baseline)
}

// waitForGoroutines waits until at most want goroutines remain. It polls
// by hand because require.Eventually runs its condition in a goroutine of
// its own, which would be counted.
func waitForGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			require.FailNowf(t, "goroutines leaked", "%d running, %d before the network existed:\n%s",
				runtime.NumGoroutine(), want, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func BenchmarkCall(b *testing.B) {
	f := setup(b)
	for i := 0; b.Loop(); i++ {
		var n int
		if !f.end.Call("Calc.Double", i, &n) {
			b.Fatal("call failed")
		}
	}
}

func BenchmarkParallelCall(b *testing.B) {
	f := setup(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var n int
			if !f.end.Call("Calc.Double", 3, &n) {
				b.Error("call failed")
				return
			}
		}
	})
}
