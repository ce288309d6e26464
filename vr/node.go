package vr

import (
	"log"
	"math/rand/v2"
	"sync"
	"time"

	"vrlab/labrpc"
)

// Node runs a Replica in real time over labrpc: a ticker calls Tick, incoming
// RPCs call Step, and what the Replica emits is sent without holding the
// lock, so a slow or dead peer never blocks the protocol.
type Node struct {
	mu    sync.Mutex
	r     *Replica
	err   error // why the replica could not start, if it could not
	me    int
	peers []*labrpc.ClientEnd

	waiters map[requestKey][]chan Message // client requests waiting for their REPLY
	inGuard []chan struct{}               // per peer: bounds the sends in flight

	dead chan struct{}
	kill sync.Once
	wg   sync.WaitGroup // the ticker
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

// maxInFlight bounds the unanswered messages to one peer; beyond it, messages
// are dropped (the protocol resends what matters), so a partitioned peer
// cannot pile up goroutines.
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
	n := &Node{
		me:      me,
		peers:   peers,
		waiters: map[requestKey][]chan Message{},
		inGuard: make([]chan struct{}, len(peers)),
		dead:    make(chan struct{}),
	}
	for i := range n.inGuard {
		n.inGuard[i] = make(chan struct{}, maxInFlight)
	}
	if opts.Seed == 0 {
		opts.Seed = rand.Int64() // each life of a replica needs fresh nonces
	}
	n.r, n.err = NewReplica(me, len(peers), sm, opts)
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

// flush takes the Replica's outbox: client replies go to the waiting RPC
// handlers, replica messages go out on their own goroutines. n.mu is held.
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
		n.sendAsync(m)
	}
}

func (n *Node) sendAsync(m Message) {
	if m.To < 0 || m.To >= len(n.peers) {
		return
	}
	select {
	case n.inGuard[m.To] <- struct{}{}:
	default:
		debugf("node", "R%d drops %v: %d messages in flight to R%d", n.me, m, maxInFlight, m.To)
		return
	}
	go func() {
		defer func() { <-n.inGuard[m.To] }()
		n.peers[m.To].Call("VR.Deliver", &m, &DeliverReply{})
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
	if s.node.killed() || s.node.r == nil {
		return
	}
	s.node.step(*args)
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
	n := s.node
	if n.killed() || n.r == nil || args.RequestNum < 1 {
		return
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
	case <-n.dead:
		n.dropWaiter(key, ch)
	}
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
