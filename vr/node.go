package vr

import (
	"log"
	"math/rand/v2"
	"sync"
	"time"

	"vrlab/labrpc"
)

// Node runs a Replica in real time over a Transport, which never blocks, so
// a slow or dead peer never blocks the protocol. Messages and requests go
// into an ordered inbox; whoever finds the Replica free (TryLock) steps
// everything waiting, then sends what the steps produced, and otherwise the
// loop goroutine does, which also calls Tick every TickInterval. So under
// load one burst of requests becomes one batch (batch.go) and a handful of
// sends, and no lock is fought over by every request.
type Node struct {
	mu        sync.RWMutex // guards r: whoever steps it holds mu; lease reads (readNow) share it
	r         *Replica
	err       error // why the replica could not start, if it could not
	me        int
	transport Transport
	batcher   ReplyBatcher // the transport, if it gathers client replies

	answers []Message                  // client replies of the last steps, answered after mu is released
	spare   []Message                  // the outbox before last, emptied: the Replica's next (SwapOutbox)
	held    map[requestKey]heldRequest // requests waiting for a view change this replica leads to end (hold.go)

	inbox chan Message  // arrivals waiting for the Replica, in order
	ready chan struct{} // (1 slot) wakes the loop: the inbox has something

	wmu          sync.Mutex               // guards waiters and expiry; taken inside mu, never around it
	waiters      map[requestKey][]*waiter // client requests waiting for their REPLY (request.go)
	expiry       []*waiter                // the same, oldest first: the loop ends their waits in time
	waitsEnded   bool                     // Kill answered every wait: new ones are answered at once
	spareAnswers []Message                // answered replies' slice, emptied, for flush to reuse

	dead chan struct{}
	kill sync.Once
	wg   sync.WaitGroup // the loop

	// With leases on (Part F), the Replica's clock is the monotonic clock:
	// it has had one tick per TickInterval since clockZero, no fewer (ticks
	// the ticker dropped are made up), and it is brought up to date before
	// every step. A primary whose clock fell behind would honour its leases
	// too long. Guarded by mu.
	leases    bool
	clockZero time.Time
	ticked    int // ticks the Replica has had
}

// Transport carries replica messages to the other replicas. The Node calls
// Send while holding its lock, so Send must not block: it queues m or sends
// it on another goroutine, and may drop it (the protocol resends what
// matters). labrpc's transport is in this file; the TCP one is package vrnet.
type Transport interface {
	Send(to int, m Message)
}

// TickInterval is the real time of one Replica tick under a Node.
const TickInterval = 10 * time.Millisecond

// inboxSize bounds the arrivals waiting for the loop; beyond it, replica
// messages are dropped (as a network would) and requests wait.
const inboxSize = 4096

// maxStepsPerFlush bounds how many arrivals the loop steps before it sends
// what they produced, so a flood of arrivals cannot delay the sends for long.
const maxStepsPerFlush = 512

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
		inbox:     make(chan Message, inboxSize),
		ready:     make(chan struct{}, 1),
		waiters:   map[requestKey][]*waiter{},
		dead:      make(chan struct{}),
	}
	n.batcher, _ = transport.(ReplyBatcher)
	if opts.Seed == 0 {
		opts.Seed = rand.Int64() // each life of a replica needs fresh nonces
	}
	n.r, n.err = NewReplica(me, npeers, sm, opts)
	if n.err != nil {
		n.Kill()
		return n, n.err
	}
	if debugAny() {
		n.r.SetLogger(debugf)
	}
	n.leases, n.clockZero = opts.LeaseTicks > 0, time.Now()
	n.mu.Lock()
	n.flush()
	n.mu.Unlock()
	n.wg.Add(1)
	go n.loop()
	return n, nil
}

// Kill stops the node: no more ticks, and incoming messages are ignored.
func (n *Node) Kill() {
	n.kill.Do(func() { close(n.dead) })
	n.wg.Wait()
	// Fence: whoever is stepping the Replica inline finishes now, and
	// nothing steps it after Kill returns (step checks killed).
	n.mu.Lock()
	n.mu.Unlock()
	n.endAllWaits()
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

// loop is the one goroutine that drives the Replica: ticks, and the
// arrivals of the inbox, each burst stepped in one go and then flushed.
func (n *Node) loop() {
	defer n.wg.Done()
	t := time.NewTicker(TickInterval)
	defer t.Stop()
	for {
		select {
		case <-n.dead:
			return
		case now := <-t.C:
			n.expireWaits(now)
			n.mu.Lock()
			if !n.killed() {
				n.tick()
				n.flush()
			}
			n.unlock()
		case <-n.ready:
			n.mu.Lock()
			n.stepInbox()
			n.unlock()
		}
	}
}

// tick gives the Replica the ticks that are due: one per tick of the
// ticker, or with leases on every tick since clockZero it has not had yet
// (see Node.leases). n.mu is held.
func (n *Node) tick() {
	if !n.leases {
		n.r.Tick()
		return
	}
	n.catchUp()
}

// catchUp ticks the Replica up to the monotonic clock (with leases on).
// n.mu is held.
func (n *Node) catchUp() {
	due := n.dueTicks()
	for n.ticked < due {
		n.ticked++
		n.r.Tick()
	}
}

// dueTicks is how many ticks the Replica should have had by now (with
// leases on). n.mu is held, for reading at least.
func (n *Node) dueTicks() int { return int(time.Since(n.clockZero) / TickInterval) }

// flush takes the Replica's outbox: client replies go to the waiting
// requests, replica messages to the Transport (which does not block). n.mu
// is held.
func (n *Node) flush() {
	out := n.r.SwapOutbox(n.spare)
	defer func() {
		clear(out) // hold on to no op or result
		n.spare = out
	}()
	if n.killed() {
		return // a killed replica says nothing more
	}
	for i := range out {
		m := &out[i]
		if m.To == ToClient {
			if n.hold(*m) {
				continue
			}
			if n.answers == nil {
				n.wmu.Lock()
				n.answers, n.spareAnswers = n.spareAnswers, nil
				n.wmu.Unlock()
			}
			n.answers = append(n.answers, *m)
			continue
		}
		n.transport.Send(m.To, *m)
	}
	n.releaseHeld()
}

// unlock releases n.mu and then answers the clients whose replies the last
// steps produced: their callbacks (a write to a client's connection, say)
// run outside the lock, so the Replica goes on with the next arrivals on
// the other core meanwhile.
func (n *Node) unlock() {
	answers := n.answers
	n.answers = nil
	n.mu.Unlock()
	for i := range answers {
		n.answer(&answers[i])
	}
	if len(answers) > 0 {
		n.repliesDone()
		clear(answers)
		n.wmu.Lock()
		n.spareAnswers = answers[:0] // for the next steps' replies
		n.wmu.Unlock()
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

// step gives one message to the Replica. n.mu is held.
func (n *Node) step(m Message) {
	if n.killed() {
		return
	}
	if err := n.r.Step(m); err != nil {
		log.Printf("vr: node %d rejected a message: %v", n.me, err)
	}
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
// Deliver does not wait for the Replica: when the inbox is full the message
// is dropped, as a congested network would.
func (n *Node) Deliver(m Message) {
	if n.killed() || n.r == nil {
		return
	}
	n.arrive(m, nil)
}

// arrive puts m in the inbox and, if the Replica is free, steps the inbox
// at once in this goroutine; otherwise whoever holds the Replica, or the
// loop, steps it next. Arrivals are stepped in inbox order. done, if not
// nil, ends the wait for room in a full inbox; with done nil a full inbox
// drops m. It reports whether m was taken.
func (n *Node) arrive(m Message, done <-chan struct{}) bool {
	select {
	case n.inbox <- m: // (the usual case, tried first: a select of one send and a default is cheap)
	default:
		if done == nil {
			debugf("node", "R%d drops %v: inbox full", n.me, m)
			return false
		}
		select {
		case n.inbox <- m:
		case <-done:
			return false
		}
	}
	if n.mu.TryLock() {
		n.stepInbox()
		n.unlock()
		return true
	}
	// Whoever holds mu may have finished its stepInbox before m arrived:
	// the loop makes sure m does not wait for the next arrival.
	n.wake()
	return true
}

// stepInbox steps what waits in the inbox (a bounded number) and sends
// what all the steps produced. n.mu is held.
func (n *Node) stepInbox() {
steps:
	for i := 0; i < maxStepsPerFlush; i++ {
		select {
		case m := <-n.inbox:
			if n.leases && !n.killed() {
				n.catchUp() // judge leases and promises by a clock that is up to date
			}
			n.step(m)
		default:
			break steps
		}
	}
	if !n.killed() {
		n.flush()
	}
	if len(n.inbox) > 0 { // the bound stopped us: the loop goes on
		n.wake()
	}
}

// wake makes the loop step the inbox soon.
func (n *Node) wake() {
	select {
	case n.ready <- struct{}{}:
	default:
	}
}

// Handler is the Node's RPC receiver, for a harness that wraps the "VR"
// service (to filter messages, say) instead of registering Services().
func (n *Node) Handler() *VR { return &VR{node: n} }
