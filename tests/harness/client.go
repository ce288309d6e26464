package harness

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"vrlab/labrpc"
	"vrlab/vr"
)

// Client is a vr.Client of the cluster with its own labrpc ends. It reaches
// the replicas of the main group (group 0) only.
type Client struct {
	c     *Cluster
	id    int
	names []string
	ends  []*labrpc.ClientEnd
	vc    *vr.Client
	seq   int
	reach []bool // nil: the main group; else only these replicas

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // Start-ed invocations
}

// NewClient connects a new client to the cluster.
func (c *Cluster) NewClient() *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl := &Client{c: c, id: len(c.clients)}
	ends := make([]*labrpc.ClientEnd, c.n)
	for j := 0; j < c.n; j++ {
		name := fmt.Sprintf("client%d-to-%d", cl.id, j)
		cl.names = append(cl.names, name)
		ends[j] = c.net.MakeEnd(name)
		c.net.Connect(name, serverName(j))
	}
	cl.ends = ends
	cl.vc = vr.MakeClient(ends)
	cl.ctx, cl.cancel = context.WithCancel(context.Background())
	c.clients = append(c.clients, cl)
	cl.applyLinksLocked()
	return cl
}

func (cl *Client) applyLinksLocked() {
	for j, name := range cl.names {
		up := cl.c.group[j] == 0
		if cl.reach != nil {
			up = cl.reach[j] && cl.c.group[j] >= 0
		}
		cl.c.net.Enable(name, up)
	}
}

// ReachOnly lets the client reach only the given replicas (when they are
// not cut off), whatever group they are in.
func (cl *Client) ReachOnly(replicas ...int) {
	cl.c.mu.Lock()
	defer cl.c.mu.Unlock()
	cl.reach = make([]bool, cl.c.n)
	for _, j := range replicas {
		cl.reach[j] = true
	}
	cl.applyLinksLocked()
}

// ReachMain undoes ReachOnly: the client reaches the main group.
func (cl *Client) ReachMain() {
	cl.c.mu.Lock()
	defer cl.c.mu.Unlock()
	cl.reach = nil
	cl.applyLinksLocked()
}

// Ends are the client's labrpc ends, ends[j] reaching replica j, subject to
// the cluster's partitions and ReachOnly: build a service's clerk on them.
func (cl *Client) Ends() []*labrpc.ClientEnd { return cl.ends }

// ID is the client-id the replicas see.
func (cl *Client) ID() int64 { return cl.vc.ID() }

// Raw sends one REQUEST RPC to replica j as client id with request-number
// num, bypassing the vr.Client's retries, and returns the reply.
func (cl *Client) Raw(j int, id int64, num int, op []byte) (vr.RequestReply, bool) {
	var reply vr.RequestReply
	ok := cl.ends[j].Call("VR.Request", &vr.RequestArgs{ClientID: id, RequestNum: num, Op: op}, &reply)
	return reply, ok
}

// NextOp returns a fresh op, unique in the test, padded to at least size
// bytes.
func (cl *Client) NextOp(size int) []byte {
	cl.seq++
	op := []byte(fmt.Sprintf("c%d-op%d;", cl.id, cl.seq))
	for len(op) < size {
		op = append(op, '.')
	}
	return op
}

// Submit executes op and returns its op-number. It fails the test if op does
// not complete within timeout, or if its result shows it did not execute
// exactly once at its place in the log. Call it from the test goroutine.
func (cl *Client) Submit(op []byte, timeout time.Duration) int {
	cl.c.t.Helper()
	n, err := cl.TrySubmit(op, timeout)
	if err != nil {
		cl.c.Fatalf("%v", err)
	}
	return n
}

// TrySubmit is Submit that returns the failure instead; safe in any goroutine.
func (cl *Client) TrySubmit(op []byte, timeout time.Duration) (int, error) {
	result, err := cl.run(op, timeout, cl.vc.InvokeContext)
	if err != nil {
		return 0, err
	}
	return cl.c.verifyResult(cl.id, op, result)
}

// run runs op with invoke (the vr.Client's InvokeContext or ReadContext),
// bounded by timeout, and counts it for the summary line.
func (cl *Client) run(op []byte, timeout time.Duration, invoke func(context.Context, []byte) ([]byte, error)) ([]byte, error) {
	ctx, cancel := context.WithTimeout(cl.ctx, timeout)
	defer cancel()
	result, err := invoke(ctx, op)
	if err != nil {
		return nil, fmt.Errorf("client %d: op %q did not complete within %v", cl.id, op, timeout)
	}
	cl.c.mu.Lock()
	cl.c.ops++
	cl.c.mu.Unlock()
	return result, nil
}

// Read runs op as a read (vr.Client.ReadContext) and returns its answer:
// the op-number of the last op the state it read held (see Recorder.Read).
// It fails the test if the read does not complete within timeout. Call it
// from the test goroutine.
func (cl *Client) Read(op []byte, timeout time.Duration) int {
	cl.c.t.Helper()
	n, err := cl.TryRead(op, timeout)
	if err != nil {
		cl.c.Fatalf("%v", err)
	}
	return n
}

// TryRead is Read that returns the failure instead; safe in any goroutine.
func (cl *Client) TryRead(op []byte, timeout time.Duration) (int, error) {
	result, err := cl.run(op, timeout, cl.vc.ReadContext)
	if err != nil {
		return 0, err
	}
	if err := cl.c.check.failure(); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(result))
	if err != nil {
		return 0, fmt.Errorf("client %d: read %q returned %q, which is no op-number", cl.id, op, result)
	}
	return n, nil
}

// RawRead sends one read-only REQUEST RPC to replica j as client id with
// request-number num, bypassing the vr.Client's retries, and returns the
// reply.
func (cl *Client) RawRead(j int, id int64, num int, op []byte) (vr.RequestReply, bool) {
	var reply vr.RequestReply
	ok := cl.ends[j].Call("VR.Request", &vr.RequestArgs{ClientID: id, RequestNum: num, Op: op, ReadOnly: true}, &reply)
	return reply, ok
}

// verifyResult checks a client's result against where the op executed.
func (c *Cluster) verifyResult(client int, op, result []byte) (int, error) {
	if err := c.check.failure(); err != nil {
		return 0, err // the real cause, not its echo in this reply
	}
	n, err := strconv.Atoi(string(result))
	where := c.check.opNumberOf(string(op))
	if err != nil || where == 0 || n != where {
		return 0, fmt.Errorf("client %d: op %q returned %q, but it executed as op %d: the reply does not belong to this op's one execution",
			client, op, result, where)
	}
	return n, nil
}

// Pending is an op submitted in the background.
type Pending struct {
	done chan struct{}
	n    int
	err  error
}

// Start submits op in the background; Wait collects it.
func (cl *Client) Start(op []byte, timeout time.Duration) *Pending {
	p := &Pending{done: make(chan struct{})}
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		defer close(p.done)
		p.n, p.err = cl.TrySubmit(op, timeout)
	}()
	return p
}

// Wait returns the op-number of a Start-ed op, or its failure.
func (p *Pending) Wait() (int, error) {
	<-p.done
	return p.n, p.err
}

// WaitFor is Wait bounded by timeout (the op may go on in the background).
func (p *Pending) WaitFor(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.n, p.err
	case <-time.After(timeout):
		return 0, fmt.Errorf("the op did not complete within %v more", timeout)
	}
}

// Done reports whether the op finished (either way).
func (p *Pending) Done() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (cl *Client) stop() { cl.cancel() }
func (cl *Client) wait() { cl.wg.Wait() }
