package vr

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"vrlab/labrpc"
)

// Client submits ops to a VR group. It numbers its requests 1, 2, 3, … with
// at most one outstanding, sends each to the primary it believes in, follows
// the view hints of replicas that are not the primary, and when it hears
// nothing useful resends the same request (same number) to every replica.
// The client-table on the replicas makes the retries safe.
type Client struct {
	mu        sync.Mutex // one request at a time
	transport ClientTransport
	nservers  int
	id        int64
	seq       int
	primary   int // where the next request goes first
}

// ClientTransport carries a client's requests to the replicas. Call sends
// args to replica server (0 ≤ server < the number of replicas) and waits, for
// a bounded time, for its reply; it returns false if it got none. Calls to
// different replicas may run at once. labrpc's transport is in this file; the
// TCP one is package vrnet.
type ClientTransport interface {
	Call(server int, args *RequestArgs, reply *RequestReply) bool
}

// labrpcClientTransport calls "VR.Request" on the replicas' ends.
type labrpcClientTransport []*labrpc.ClientEnd

func (t labrpcClientTransport) Call(server int, args *RequestArgs, reply *RequestReply) bool {
	return t[server].Call("VR.Request", args, reply)
}

// retryPause is how long the client waits after a round in which no replica
// could take the request (a view change is under way).
const retryPause = 20 * time.Millisecond

// MakeClient makes a client of the group reached through servers.
func MakeClient(servers []*labrpc.ClientEnd) *Client {
	return NewClient(len(servers), labrpcClientTransport(servers))
}

// NewClient makes a client of a group of nservers replicas reached through
// transport.
func NewClient(nservers int, transport ClientTransport) *Client {
	return &Client{transport: transport, nservers: nservers, id: rand.Int64()}
}

// ID is the client-id the replicas see.
func (c *Client) ID() int64 { return c.id }

// Invoke executes op exactly once and returns its result. It retries until
// the group answers.
func (c *Client) Invoke(op []byte) []byte {
	result, _ := c.InvokeContext(context.Background(), op)
	return result
}

// InvokeContext is Invoke that gives up when ctx ends. The op may still
// execute later: the client gave up waiting, not the request.
func (c *Client) InvokeContext(ctx context.Context, op []byte) ([]byte, error) {
	return c.request(ctx, op, false)
}

// Read executes a read-only op and returns its result; like Invoke, it
// retries until the group answers. The answer is linearizable: with
// Options.LeaseTicks > 0 and a StateMachine that is a Reader, a primary
// holding leases answers it from its state without a PREPARE (Part F);
// otherwise it goes through the log like Invoke.
func (c *Client) Read(op []byte) []byte {
	result, _ := c.ReadContext(context.Background(), op)
	return result
}

// ReadContext is Read that gives up when ctx ends.
func (c *Client) ReadContext(ctx context.Context, op []byte) ([]byte, error) {
	return c.request(ctx, op, true)
}

// request runs one request, read-only or not, to completion or until ctx
// ends.
func (c *Client) request(ctx context.Context, op []byte, readOnly bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nservers == 0 {
		return nil, errors.New("vr: client has no servers")
	}
	c.seq++
	args := RequestArgs{ClientID: c.id, RequestNum: c.seq, Op: op, ReadOnly: readOnly}
	for ctx.Err() == nil {
		// Follow hints to the primary, a few hops at most.
		for hop := 0; hop < c.nservers; hop++ {
			var reply RequestReply
			if !c.transport.Call(c.primary, &args, &reply) {
				break
			}
			if reply.OK {
				return reply.Result, nil
			}
			next := reply.Primary
			if !reply.NotPrimary || next == c.primary || next < 0 || next >= c.nservers {
				break
			}
			c.primary = next
		}
		if result, ok := c.broadcast(&args); ok {
			return result, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(retryPause):
		}
	}
	return nil, ctx.Err()
}

// broadcast resends the request to every replica at once and returns the
// first result. It also learns the primary from the answers.
func (c *Client) broadcast(args *RequestArgs) ([]byte, bool) {
	type answer struct {
		from  int
		ok    bool
		reply RequestReply
	}
	answers := make(chan answer, c.nservers)
	for i := range c.nservers {
		go func(i int) {
			var reply RequestReply
			ok := c.transport.Call(i, args, &reply)
			answers <- answer{i, ok, reply}
		}(i)
	}
	bestView := -1
	for range c.nservers {
		a := <-answers
		if !a.ok {
			continue
		}
		if a.reply.OK {
			c.primary = a.from
			return a.reply.Result, true
		}
		if a.reply.NotPrimary && a.reply.View > bestView && a.reply.Primary >= 0 && a.reply.Primary < c.nservers {
			bestView = a.reply.View
			c.primary = a.reply.Primary
		}
	}
	return nil, false
}
