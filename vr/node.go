package vr

import (
	"context"
	"log"
	"math/rand/v2"
	"sync"
	"time"

	"vrlab/labrpc"
)

// Node runs a Replica in real time over a Transport: a ticker calls Tick,
// delivered messages call Step, and what the Replica emits is handed to the
// Transport, which never blocks, so a slow or dead peer never blocks the
// protocol.
type Node struct {
	mu        sync.Mutex
	r         *Replica
	err       error // why the replica could not start, if it could not
	me        int
	transport Transport

	waiters map[requestKey][]chan Message // client requests waiting for their REPLY

	dead chan struct{}
	kill sync.Once
	wg   sync.WaitGroup // the ticker
}

// Transport carries replica messages to the other replicas. The Node calls
// Send while holding its lock, so Send must not block: it queues m or sends
// it on another goroutine, and may drop it (the protocol resends what
// matters). labrpc's transport is in this file; the TCP one is package vrnet.
type Transport interface {
	Send(to int, m Message)
}

type requestKey struct {
	client int64
	num    int
}

// TickInterval is the real time of one Replica tick under a Node.
const TickInterval = 10 * time.Millisecond

// requestWait bounds how long a REQUEST RPC waits for its reply before the
// client tries again (possibly elsewhere).
const requestWait = 400 * time.Millisecond

// maxInFlight bounds the unanswered labrpc messages to one peer; beyond it,
// messages are dropped (the protocol resends what matters), so a partitioned
// peer cannot pile up goroutines.
const maxInFlight = 256

// Make starts a replica over labrpc. peers[me] is this replica's own end
// (unused). A restarted replica is a fresh Make with opts.Recovering and an
// empty StateMachine. Make returns at once. A bad configuration is logged and
// yields a Node that takes part in nothing; StartNode returns the error.
func Make(peers []*labrpc.ClientEnd, me int, sm StateMachine, opts Options) *Node {
	n, err := StartNode(peers, me, sm, opts)
	if err != nil {
		log.Printf("vr.Make: %v", err)
	}
	return n
}

// StartNode is Make with the configuration error returned. The Node is
// non-nil either way.
func StartNode(peers []*labrpc.ClientEnd, me int, sm StateMachine, opts Options) (*Node, error) {
	return NewNode(me, len(peers), sm, opts, newLabrpcTransport(me, peers))
}

// NewNode starts replica me of npeers over transport, which carries its
// messages to the others; whoever receives messages for it calls Deliver,
// and client requests arrive through Request. NewNode returns at once. A bad
// configuration yields the error and a Node that takes part in nothing; the
// Node is non-nil either way.
func NewNode(me, npeers int, sm StateMachine, opts Options, transport Transport) (*Node, error) {
	n := &Node{
		me:        me,
		transport: transport,
		waiters:   map[requestKey][]chan Message{},
		dead:      make(chan struct{}),
	}
	if opts.Seed == 0 {
		opts.Seed = rand.Int64() // each life of a replica needs fresh nonces
	}
	n.r, n.err = NewReplica(me, npeers, sm, opts)
	if n.err != nil {
		n.Kill()
		return n, n.err
	}
	n.r.SetLogger(debugf)
	n.mu.Lock()
	n.flush()
	n.mu.Unlock()
	n.wg.Add(1)
	go n.ticker()
	return n, nil
}

// Kill stops the node: no more ticks, and incoming messages are ignored.
func (n *Node) Kill() {
	n.kill.Do(func() { close(n.dead) })
	n.wg.Wait()
}

func (n *Node) killed() bool {
	select {
	case <-n.dead:
		return true
	default:
		return false
	}
}

// Err reports why the replica could not start, or nil.
func (n *Node) Err() error { return n.err }

// State returns a consistent snapshot of the replica's state.
func (n *Node) State() State {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.r == nil {
		return State{}
	}
	return n.r.State()
}

// Services returns what the harness registers on this node's labrpc server.
func (n *Node) Services() []*labrpc.Service {
	return []*labrpc.Service{labrpc.MakeService(&VR{node: n})}
}

func (n *Node) ticker() {
	defer n.wg.Done()
	t := time.NewTicker(TickInterval)
	defer t.Stop()
	for {
		select {
		case <-n.dead:
			return
		case <-t.C:
			n.mu.Lock()
			if n.killed() {
				n.mu.Unlock()
				return
			}
			n.r.Tick()
			n.flush()
			n.mu.Unlock()
		}
	}
}

// flush takes the Replica's outbox: client replies go to the waiting
// requests, replica messages to the Transport (which does not block). n.mu
// is held.
func (n *Node) flush() {
	out := n.r.Outbox()
	if n.killed() {
		return // a killed replica says nothing more
	}
	for _, m := range out {
		if m.To == ToClient {
			key := requestKey{m.ClientID, m.RequestNum}
			for _, ch := range n.waiters[key] {
				ch <- m // buffered; each waiter takes one message
			}
			delete(n.waiters, key)
			continue
		}
		n.transport.Send(m.To, m)
	}
}

// labrpcTransport sends each message as a "VR.Deliver" RPC on its own
// goroutine, with a bound on the messages in flight to each peer: beyond it,
// messages are dropped, so a partitioned peer cannot pile up goroutines.
type labrpcTransport struct {
	me      int
	peers   []*labrpc.ClientEnd
	inGuard []chan struct{} // per peer: bounds the sends in flight
}

func newLabrpcTransport(me int, peers []*labrpc.ClientEnd) *labrpcTransport {
	t := &labrpcTransport{me: me, peers: peers, inGuard: make([]chan struct{}, len(peers))}
	for i := range t.inGuard {
		t.inGuard[i] = make(chan struct{}, maxInFlight)
	}
	return t
}

func (t *labrpcTransport) Send(to int, m Message) {
	if to < 0 || to >= len(t.peers) {
		return
	}
	select {
	case t.inGuard[to] <- struct{}{}:
	default:
		debugf("node", "R%d drops %v: %d messages in flight to R%d", t.me, m, maxInFlight, to)
		return
	}
	go func() {
		defer func() { <-t.inGuard[to] }()
		t.peers[to].Call("VR.Deliver", &m, &DeliverReply{})
	}()
}

// step gives one message to the Replica.
func (n *Node) step(m Message) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.killed() {
		return
	}
	if err := n.r.Step(m); err != nil {
		log.Printf("vr: node %d rejected a message: %v", n.me, err)
		return
	}
	n.flush()
}

// VR is the labrpc service of a Node: "VR.Deliver" carries replica-to-replica
// messages, "VR.Request" a client's request.
type VR struct {
	node *Node
}

// DeliverReply is empty: replica messages are one-way.
type DeliverReply struct{}

// Deliver hands a replica message to the Replica.
func (s *VR) Deliver(args *Message, reply *DeliverReply) {
	s.node.Deliver(*args)
}

// Deliver hands a message from another replica to the Replica. The Replica
// validates it: a message no correct replica sends is logged and ignored.
func (n *Node) Deliver(m Message) {
	if n.killed() || n.r == nil {
		return
	}
	n.step(m)
}

// RequestArgs is a client's REQUEST.
type RequestArgs struct {
	ClientID   int64
	RequestNum int
	Op         []byte
}

// RequestReply answers a REQUEST: the result, or a hint where the primary is.
type RequestReply struct {
	OK         bool   // Result is the op's result
	Result     []byte //
	NotPrimary bool   // this replica is not the primary of View
	View       int    // the replica's view
	Primary    int    // with NotPrimary: the primary of View, where to try next
}

// Request submits a client's request and waits, for a bounded time, for its
// reply.
func (s *VR) Request(args *RequestArgs, reply *RequestReply) {
	*reply = s.node.Request(context.Background(), *args)
}

// Request submits a client's request and waits for its reply, at most
// requestWait or until ctx ends. A zero RequestReply (neither OK nor
// NotPrimary) means no answer in time: the client tries again.
func (n *Node) Request(ctx context.Context, args RequestArgs) RequestReply {
	var reply RequestReply
	if n.killed() || n.r == nil || args.RequestNum < 1 {
		return reply
	}
	key := requestKey{args.ClientID, args.RequestNum}
	ch := make(chan Message, 1)
	n.mu.Lock()
	n.waiters[key] = append(n.waiters[key], ch)
	n.mu.Unlock()
	n.step(Message{Type: MsgRequest, ClientID: args.ClientID, RequestNum: args.RequestNum, Op: args.Op})

	timer := time.NewTimer(requestWait)
	defer timer.Stop()
	select {
	case m := <-ch:
		reply.View = m.View
		reply.OK = m.Type == MsgReply
		reply.NotPrimary = m.Type == MsgNotPrimary
		reply.Primary = m.Primary
		reply.Result = m.Result
	case <-timer.C:
		n.dropWaiter(key, ch)
	case <-ctx.Done():
		n.dropWaiter(key, ch)
	case <-n.dead:
		n.dropWaiter(key, ch)
	}
	return reply
}

func (n *Node) dropWaiter(key requestKey, ch chan Message) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ws := n.waiters[key]
	for i, w := range ws {
		if w == ch {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(n.waiters, key)
	} else {
		n.waiters[key] = ws
	}
}

// Handler is the Node's RPC receiver, for a harness that wraps the "VR"
// service (to filter messages, say) instead of registering Services().
func (n *Node) Handler() *VR { return &VR{node: n} }
