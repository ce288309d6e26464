package vr

import (
	"context"
	"time"
)

// Client requests at a Node: Request waits for the reply; Submit hands it
// to a callback, so a server need not park a goroutine per request (vrnet
// writes the reply from the callback).

// RequestArgs is a client's REQUEST.
type RequestArgs struct {
	ClientID   int64
	RequestNum int
	Op         []byte
	Epoch      int   // the epoch the client believes the group is in (part E)
	Reconfig   bool  // a RECONFIGURATION to Members instead of an op (part E)
	Members    []int // with Reconfig: the new configuration
	ReadOnly   bool  // Op changes nothing: a primary holding leases may answer it from its state (Part F)
}

// RequestReply answers a REQUEST: the result, or a hint where the primary is.
type RequestReply struct {
	OK         bool   // Result is the op's result
	Result     []byte //
	NotPrimary bool   // this replica is not the primary of View
	View       int    // the replica's view
	Primary    int    // with NotPrimary: the primary of View, where to try next
	Epoch      int    // the replica's epoch (part E)
	Members    []int  // with NotPrimary: the configuration of Epoch
	Err        string // a refused RECONFIGURATION: why
}

// requestWait bounds how long a request waits for its reply before the
// client is told nothing (and tries again, possibly elsewhere).
const requestWait = 400 * time.Millisecond

type requestKey struct {
	client int64
	num    int
}

// waiter is a request waiting for its REPLY or NOTPRIMARY: done is called
// once, with the answer, or with a zero RequestReply when the wait ends
// without one. The loop ends the waits that pass their deadline (a tick
// late at most): every wait is equally long, so the waiters expire in the
// order they came, and a queue (Node.expiry) is all it takes, without a
// timer per request.
type waiter struct {
	done     func(RequestReply)
	key      requestKey
	args     RequestArgs // the request, should the Node step it again (hold.go)
	deadline time.Time
	finished bool // done was called or is being called; guarded by Node.wmu
}

// Request submits a client's request and waits for its reply, at most
// requestWait or until ctx ends. A zero RequestReply (neither OK nor
// NotPrimary) means no answer in time: the client tries again.
func (n *Node) Request(ctx context.Context, args RequestArgs) RequestReply {
	if r, ok := n.readNow(args); ok {
		return r // Part F: a lease read, answered at once
	}
	ch := make(chan RequestReply, 1)
	cancel := ctx.Done()
	if cancel == nil { // a context that never ends: wait for room while the Node lives
		cancel = n.dead
	}
	w := n.submit(args, func(r RequestReply) { ch <- r }, cancel)
	select {
	case r := <-ch:
		return r
	case <-ctx.Done():
	case <-n.dead:
	}
	if w != nil {
		n.endWait(w)
	}
	return <-ch
}

// Submit submits a client's request and returns at once; done is called
// exactly once, with the reply, or with a zero RequestReply if there is
// none within requestWait or when the Node is killed. done runs on a
// goroutine of the Node's, or of whoever delivered the message that
// committed the op, or on the caller's before Submit returns (a duplicate
// or a NOTPRIMARY answered at once): it must be quick, must not block, and
// must not need a lock the caller of Submit holds.
func (n *Node) Submit(args RequestArgs, done func(RequestReply)) {
	if r, ok := n.readNow(args); ok {
		done(r) // Part F: a lease read, answered at once
		n.repliesDone()
		return
	}
	n.submit(args, done, n.dead)
}

// readNow answers a read-only request at once if the Replica can from its
// leases (Replica.ReadNow): no waiter, no trip through the inbox. Reads
// share the Node's lock (ReadNow changes nothing), unless a tick is due:
// then the clock moves first, under the lock alone. Otherwise the request
// takes the usual path (and may still be a lease read there).
func (n *Node) readNow(args RequestArgs) (RequestReply, bool) {
	if !args.ReadOnly || !n.leases || n.r == nil || args.RequestNum < 1 {
		return RequestReply{}, false
	}
	in := Message{Type: MsgRequest, ClientID: args.ClientID, RequestNum: args.RequestNum, Op: args.Op, ReadOnly: true}
	var m Message
	ok := false
	n.mu.RLock()
	switch {
	case n.killed():
		n.mu.RUnlock()
	case n.ticked < n.dueTicks():
		n.mu.RUnlock()
		n.mu.Lock()
		if !n.killed() {
			n.catchUp()
			m, ok = n.r.ReadNow(in)
			n.flush() // what catching up on the clock sent (a heartbeat)
		}
		n.unlock()
	default:
		m, ok = n.r.ReadNow(in)
		n.mu.RUnlock()
	}
	if !ok {
		return RequestReply{}, false
	}
	return RequestReply{OK: true, Result: m.Result, View: m.View}, true
}

// submit registers a waiter and puts the request in the inbox. It returns
// the waiter, or nil when the request was answered (with nothing) at once.
func (n *Node) submit(args RequestArgs, done func(RequestReply), cancel <-chan struct{}) *waiter {
	if n.killed() || n.r == nil || args.RequestNum < 1 {
		done(RequestReply{})
		n.repliesDone()
		return nil
	}
	key := requestKey{args.ClientID, args.RequestNum}
	w := &waiter{done: done, key: key, args: args, deadline: time.Now().Add(requestWait)}
	n.wmu.Lock()
	if n.waitsEnded { // Kill ran: nobody would ever answer
		n.wmu.Unlock()
		done(RequestReply{})
		n.repliesDone()
		return nil
	}
	n.waiters[key] = append(n.waiters[key], w)
	n.expiry = append(n.expiry, w)
	n.wmu.Unlock()
	if !n.arrive(requestMessage(args), cancel) {
		n.endWait(w)
	}
	return w
}

// requestMessage is the REQUEST (or RECONFIGURATION) that args ask for.
func requestMessage(args RequestArgs) Message {
	m := Message{Type: MsgRequest, ClientID: args.ClientID, RequestNum: args.RequestNum, Op: args.Op, Epoch: args.Epoch, ReadOnly: args.ReadOnly}
	if args.Reconfig {
		m.Type, m.Op, m.Members = MsgReconfiguration, nil, args.Members
	}
	return m
}

// endAllWaits answers every waiting request with nothing, for good: the
// Node was killed.
func (n *Node) endAllWaits() {
	n.wmu.Lock()
	n.waitsEnded = true
	var ended []*waiter
	for _, w := range n.expiry {
		if !w.finished {
			n.removeWaiter(w)
			ended = append(ended, w)
		}
	}
	n.expiry = nil
	n.wmu.Unlock()
	for _, w := range ended {
		w.done(RequestReply{})
	}
	n.repliesDone()
}

// expireWaits ends the waits whose deadline is past (the loop calls it
// every tick).
func (n *Node) expireWaits(now time.Time) {
	var expired []*waiter
	n.wmu.Lock()
	i := 0
	for ; i < len(n.expiry); i++ {
		w := n.expiry[i]
		if w.finished {
			continue
		}
		if w.deadline.After(now) {
			break
		}
		n.removeWaiter(w)
		expired = append(expired, w)
	}
	n.expiry = n.expiry[i:]
	n.wmu.Unlock()
	for _, w := range expired {
		w.done(RequestReply{})
	}
	if len(expired) > 0 {
		n.repliesDone()
	}
}

// removeWaiter takes w out of the waiters and marks it finished. n.wmu is
// held.
func (n *Node) removeWaiter(w *waiter) {
	w.finished = true
	ws := n.waiters[w.key]
	for j, x := range ws {
		if x == w {
			ws = append(ws[:j], ws[j+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(n.waiters, w.key)
	} else {
		n.waiters[w.key] = ws
	}
}

// endWait answers w with nothing, unless it was answered already.
func (n *Node) endWait(w *waiter) {
	n.wmu.Lock()
	finished := w.finished
	if !finished {
		n.removeWaiter(w)
	}
	n.wmu.Unlock()
	if !finished {
		w.done(RequestReply{})
		n.repliesDone()
	}
}

// A ReplyBatcher is a Transport that gathers client replies: after the
// Node has run a batch of Submit callbacks (all the replies one step or one
// commit produced, or a single one), it calls RepliesDone, on the goroutine
// that ran them, so that the replies bound for one connection can go out
// in one write (vrnet.Replica). Every callback is followed by a call.
type ReplyBatcher interface {
	RepliesDone()
}

// repliesDone tells a ReplyBatcher transport that a batch of callbacks ran.
func (n *Node) repliesDone() {
	if n.batcher != nil {
		n.batcher.RepliesDone()
	}
}

// answer hands a REPLY or NOTPRIMARY to the requests waiting for it.
func (n *Node) answer(m *Message) {
	key := requestKey{m.ClientID, m.RequestNum}
	n.wmu.Lock()
	ws := n.waiters[key]
	delete(n.waiters, key)
	for _, w := range ws {
		w.finished = true
	}
	n.wmu.Unlock()
	r := RequestReply{
		View:       m.View,
		OK:         m.Type == MsgReply,
		NotPrimary: m.Type == MsgNotPrimary || m.Type == MsgNewEpoch,
		Primary:    m.Primary,
		Result:     m.Result,
		Epoch:      m.Epoch,
		Members:    m.Members,
		Err:        m.Err,
	}
	for _, w := range ws {
		w.done(r)
	}
}

// Request is the labrpc form of Node.Request.
func (s *VR) Request(args *RequestArgs, reply *RequestReply) {
	*reply = s.node.Request(context.Background(), *args)
}
