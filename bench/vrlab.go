package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"vrlab/bench/system"
	"vrlab/vr"
	"vrlab/vrnet"
)

// The systems of vrlab itself: VR over vrnet (TCP), VR over an in-memory
// transport, and the unreplicated ceiling.

// vrOptions are the options of every vrlab replica (-batch sets MaxBatchOps).
var vrOptions = vr.Options{CheckpointEvery: system.SnapshotEvery}

// benchLeaseTicks is the lease of the vrlab-lease rows: 200 ms, below the
// default 300 ms view-change timeout.
const benchLeaseTicks = 20

// kvSM adapts system.KV to vr.StateMachine, and to vr.Reader: with leases
// on, the primary answers reads with Read.
type kvSM struct{ *system.KV }

// quiet is the logger of every vrnet piece: the benchmark prints only its table.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// freeAddrs returns n loopback addresses whose ports were free a moment ago.
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, ln.Addr().String())
		ln.Close()
	}
	return addrs, nil
}

// vrlabTCP: three vrnet.Replicas; each client dials the replicas itself
// (vrnet.Client) and runs a vr.Client, as a real client would.
func vrlabTCP() (*target, error) { return vrlabTCPWith(vrOptions) }

// vrlabLeaseTCP is vrlabTCP with leases: reads at the primary.
func vrlabLeaseTCP() (*target, error) { return vrlabTCPWith(leaseOptions()) }

// leaseOptions are vrOptions with leases on.
func leaseOptions() vr.Options {
	o := vrOptions
	o.LeaseTicks = benchLeaseTicks
	return o
}

func vrlabTCPWith(opts vr.Options) (*target, error) {
	addrs, err := freeAddrs(3)
	if err != nil {
		return nil, err
	}
	var reps []*vrnet.Replica
	closeAll := func() {
		for _, r := range reps {
			r.Close()
		}
	}
	for i := range addrs {
		r, err := vrnet.StartReplica(vrnet.Config{ID: i, Peers: addrs, Logger: quiet}, kvSM{system.NewKV()}, opts)
		if err != nil {
			closeAll()
			return nil, err
		}
		reps = append(reps, r)
	}
	t := &target{
		close: closeAll,
		counters: func() system.Counters {
			var c system.Counters
			for _, r := range reps {
				st := r.Stats()
				c.Messages += st.Messages
				c.WireBytes += st.Bytes
			}
			return c
		},
		newClient: func() (client, error) { return dialVR(addrs) },
		addrs:     addrs,
	}
	return t, waitPrimary(func(i int) vr.State { return reps[i].Node().State() }, 3)
}

// dialVR is a vr.Client over vrnet of the group at addrs.
func dialVR(addrs []string) (client, error) {
	c, err := vrnet.NewClient(vrnet.Config{Peers: addrs, Logger: quiet})
	if err != nil {
		return client{}, err
	}
	vc := vr.NewClient(len(addrs), c)
	return client{do: vc.InvokeContext, read: vc.ReadContext, close: c.Close}, nil
}

// sharedConn is start's TCP target with every client over one shared
// connection: one vrnet.Client carries every client's vr.Client (each with
// its own client-id), multiplexing their calls and coalescing their writes,
// as a process serving many users would reach the group.
func sharedConn(start func() (*target, error)) func() (*target, error) {
	return func() (*target, error) {
		t, err := start()
		if err != nil {
			return nil, err
		}
		shared, err := vrnet.NewClient(vrnet.Config{Peers: t.addrs, Logger: quiet})
		if err != nil {
			t.close()
			return nil, err
		}
		stop := t.close
		t.close = func() { shared.Close(); stop() }
		t.newClient = func() (client, error) {
			vc := vr.NewClient(len(t.addrs), shared)
			return client{do: vc.InvokeContext, read: vc.ReadContext, close: func() {}}, nil
		}
		return t, nil
	}
}

// waitPrimary waits until some replica is a normal primary.
func waitPrimary(state func(i int) vr.State, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i := range n {
			if st := state(i); st.IsPrimary {
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("no primary after 10 s")
}

// memNet is an in-memory vr.Transport between Nodes of one process: one
// goroutine and queue per directed link, so order per link holds and Send
// never blocks (a full queue drops, as vrnet does).
type memNet struct {
	nodes []*vr.Node
	links [][]chan vr.Message // [from][to]
	msgs  atomic.Int64
	done  chan struct{}
	wg    sync.WaitGroup
}

type memEnd struct {
	net *memNet
	me  int
}

func (e memEnd) Send(to int, m vr.Message) {
	if to < 0 || to >= len(e.net.links) || to == e.me {
		return
	}
	select {
	case e.net.links[e.me][to] <- m:
		e.net.msgs.Add(1)
	default:
	}
}

func (n *memNet) run(from, to int) {
	defer n.wg.Done()
	for {
		select {
		case <-n.done:
			return
		case m := <-n.links[from][to]:
			n.nodes[to].Deliver(m)
		}
	}
}

// memClient is a vr.ClientTransport that calls the Nodes directly.
type memClient struct{ nodes []*vr.Node }

func (c memClient) Call(server int, args *vr.RequestArgs, reply *vr.RequestReply) bool {
	*reply = c.nodes[server].Request(context.Background(), *args)
	return reply.OK || reply.NotPrimary
}

// vrlabMem: three vr.Nodes over memNet; clients are vr.Clients calling the
// Nodes in-process.
func vrlabMem() (*target, error) { return vrlabMemWith(vrOptions) }

// vrlabLeaseMem is vrlabMem with leases: reads at the primary.
func vrlabLeaseMem() (*target, error) { return vrlabMemWith(leaseOptions()) }

func vrlabMemWith(opts vr.Options) (*target, error) {
	const n = 3
	mn := &memNet{nodes: make([]*vr.Node, n), links: make([][]chan vr.Message, n), done: make(chan struct{})}
	for i := range n {
		mn.links[i] = make([]chan vr.Message, n)
		for j := range n {
			mn.links[i][j] = make(chan vr.Message, 4096)
		}
	}
	// The links start once every node exists; until then the first
	// messages wait in the queues.
	for i := range n {
		node, err := vr.NewNode(i, n, kvSM{system.NewKV()}, opts, memEnd{mn, i})
		if err != nil {
			return nil, err
		}
		mn.nodes[i] = node
	}
	for i := range n {
		for j := range n {
			if i != j {
				mn.wg.Add(1)
				go mn.run(i, j)
			}
		}
	}
	t := &target{
		close: func() {
			for _, nd := range mn.nodes {
				nd.Kill()
			}
			close(mn.done)
			mn.wg.Wait()
		},
		counters: func() system.Counters { return system.Counters{Messages: mn.msgs.Load()} },
		newClient: func() (client, error) {
			vc := vr.NewClient(n, memClient{mn.nodes})
			return client{do: vc.InvokeContext, read: vc.ReadContext, close: func() {}}, nil
		},
	}
	return t, waitPrimary(func(i int) vr.State { return mn.nodes[i].State() }, n)
}

// kvHandler is the unreplicated server: it applies each request to one KV
// under a lock and answers at once (vrnet.Handler).
type kvHandler struct {
	mu sync.Mutex
	kv *system.KV
}

func (h *kvHandler) Request(ctx context.Context, args vr.RequestArgs) vr.RequestReply {
	h.mu.Lock()
	res := h.kv.Apply(args.Op) // a ReadCommand changes nothing
	h.mu.Unlock()
	return vr.RequestReply{OK: true, Result: res}
}

func (h *kvHandler) State() vr.State { return vr.State{Status: vr.Normal, IsPrimary: true} }

// Submit answers at once, on the connection's reader (vrnet.Submitter), as
// vrlab's primary does when it can: the ceiling gets the same server path.
func (h *kvHandler) Submit(args vr.RequestArgs, done func(vr.RequestReply)) {
	done(h.Request(context.Background(), args))
}

// groupHandler puts a system.Group behind vrnet's client protocol: the
// front-end of the other libraries' TCP rows. Their Submit blocks until the
// command is applied, so the server runs each request on a goroutine of its
// own (vrlab's Node takes a callback instead: vrnet.Submitter).
type groupHandler struct{ g system.Group }

func (h groupHandler) Request(ctx context.Context, args vr.RequestArgs) vr.RequestReply {
	submit := h.g.Submit
	if r, ok := h.g.(system.Reader); ok && args.ReadOnly {
		submit = r.Read // the library's linearizable read
	}
	res, err := submit(ctx, args.Op)
	if err != nil {
		return vr.RequestReply{} // no answer: the client retries
	}
	return vr.RequestReply{OK: true, Result: res}
}

func (h groupHandler) State() vr.State { return vr.State{Status: vr.Normal, IsPrimary: true} }

// served puts h behind a vrnet.Server; clients are vr.Clients over vrnet,
// exactly as vrlab's own clients.
func served(h vrnet.Handler, counters func() system.Counters, stop func()) (*target, error) {
	addrs, err := freeAddrs(1)
	if err != nil {
		return nil, err
	}
	s, err := vrnet.Serve(vrnet.Config{Peers: addrs, Logger: quiet}, h)
	if err != nil {
		return nil, err
	}
	return &target{
		close:     func() { s.Close(); stop() },
		counters:  counters,
		newClient: func() (client, error) { return dialVR(addrs) },
		addrs:     addrs,
	}, nil
}

func unreplicatedTCP() (*target, error) {
	return served(&kvHandler{kv: system.NewKV()}, func() system.Counters { return system.Counters{} }, func() {})
}

// groupTCP is a library's group behind the TCP front-end.
func groupTCP(start func() (system.Group, error)) func() (*target, error) {
	return func() (*target, error) {
		g, err := start()
		if err != nil {
			return nil, err
		}
		t, err := served(groupHandler{g}, g.Counters, g.Close)
		if err != nil {
			g.Close()
		}
		return t, err
	}
}

// groupMem is a library's group called in-process.
func groupMem(start func() (system.Group, error)) func() (*target, error) {
	return func() (*target, error) {
		g, err := start()
		if err != nil {
			return nil, err
		}
		return &target{
			close:     g.Close,
			counters:  g.Counters,
			newClient: func() (client, error) { return client{do: g.Submit, read: readOf(g), close: func() {}}, nil },
		}, nil
	}
}

// readOf is g's linearizable read, or its Submit if it has none (a read
// through the log).
func readOf(g system.Group) func(context.Context, []byte) ([]byte, error) {
	if r, ok := g.(system.Reader); ok {
		return r.Read
	}
	return g.Submit
}
