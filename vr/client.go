package vr

import (
	"context"
	"errors"
	"fmt"
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

	// What the client knows of the group's epoch (part E): replies carry
	// the replica's epoch, and NOTPRIMARY and NEWEPOCH its configuration.
	epoch   int
	members []int // nil until an answer names them
	heard   bool  // some replica has answered this client
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
	reply, err := c.do(ctx, &RequestArgs{ClientID: c.id, RequestNum: c.seq, Op: op, ReadOnly: readOnly})
	return reply.Result, err
}

// do sends args until some replica answers it (OK) or ctx ends. Ops carry
// the epoch the client knows at each try; a RECONFIGURATION keeps the epoch
// it was asked for.
func (c *Client) do(ctx context.Context, args *RequestArgs) (RequestReply, error) {
	for ctx.Err() == nil {
		if !args.Reconfig {
			args.Epoch = c.epoch
		}
		// Follow hints to the primary, a few hops at most.
		for hop := 0; hop < c.nservers; hop++ {
			var reply RequestReply
			if !c.transport.Call(c.primary, args, &reply) {
				break
			}
			c.learn(reply)
			if reply.OK {
				return reply, nil
			}
			next := reply.Primary
			if !reply.NotPrimary || next == c.primary || next < 0 || next >= c.nservers {
				break
			}
			c.primary = next
		}
		if reply, ok := c.broadcast(args); ok {
			return reply, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(retryPause):
		}
	}
	return RequestReply{}, ctx.Err()
}

// learn takes what an answer tells of the group: a newer epoch and its
// configuration.
func (c *Client) learn(reply RequestReply) {
	c.heard = true
	if reply.Epoch > c.epoch || (reply.Epoch == c.epoch && c.members == nil && reply.Members != nil) {
		c.epoch = reply.Epoch
		if reply.Members != nil {
			c.members = append([]int(nil), reply.Members...)
		}
	}
}

// Reconfigure asks the group to move to a new epoch whose configuration is
// members (part E), and returns nil once the new configuration's primary is
// normal in it; until then it retries, like Invoke. The caller may then shut
// the removed replicas down. A configuration that is empty, lists a replica
// twice or names one outside the servers is refused at once, as the group
// refuses the configuration already in force, a second reconfiguration
// while one is in progress, and a request for an epoch that has ended
// (this client's knowledge was stale: ask again). A client that has never
// heard from the group asks for whatever epoch it is in.
func (c *Client) Reconfigure(members []int) error {
	return c.ReconfigureContext(context.Background(), members)
}

// ReconfigureContext is Reconfigure that gives up when ctx ends. The
// reconfiguration may still happen later.
func (c *Client) ReconfigureContext(ctx context.Context, members []int) error {
	if err := checkMembers(members, c.nservers); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	args := &RequestArgs{ClientID: c.id, RequestNum: c.seq, Epoch: c.epoch, Reconfig: true, Members: append([]int(nil), members...)}
	fresh := !c.heard
	for {
		reply, err := c.do(ctx, args)
		switch {
		case err != nil:
			return err
		case reply.Err == "":
			return nil
		case reply.Epoch < args.Epoch:
			// A stale primary of an epoch that has ended: not the group's
			// answer. Ask elsewhere.
			c.primary = (c.primary + 1) % c.nservers
			select {
			case <-ctx.Done():
			case <-time.After(retryPause):
			}
		case fresh && reply.Epoch != args.Epoch:
			fresh = false
			args.Epoch = reply.Epoch // it knew no epoch: take the group's
		default:
			return fmt.Errorf("vr: reconfiguration to %v refused: %s", members, reply.Err)
		}
	}
}

// Members returns the configuration and epoch this client last heard of;
// nil before any replica named them.
func (c *Client) Members() ([]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.members...), c.epoch
}

// broadcast resends the request to every replica at once and returns the
// first result. It also learns the primary from the answers.
func (c *Client) broadcast(args *RequestArgs) (RequestReply, bool) {
	type answer struct {
		from  int
		ok    bool
		reply RequestReply
	}
	answers := make(chan answer, c.nservers)
	// The calls may outlive this function (it returns at the first answer),
	// and the caller changes args on its next try (the epoch): they send a
	// copy of their own.
	sent := *args
	for i := range c.nservers {
		go func(i int) {
			var reply RequestReply
			ok := c.transport.Call(i, &sent, &reply)
			answers <- answer{i, ok, reply}
		}(i)
	}
	bestEpoch, bestView := -1, -1
	for range c.nservers {
		a := <-answers
		if !a.ok {
			continue
		}
		c.learn(a.reply)
		if a.reply.OK {
			c.primary = a.from
			return a.reply, true
		}
		newer := a.reply.Epoch > bestEpoch || (a.reply.Epoch == bestEpoch && a.reply.View > bestView)
		if a.reply.NotPrimary && newer && a.reply.Primary >= 0 && a.reply.Primary < c.nservers {
			bestEpoch, bestView = a.reply.Epoch, a.reply.View
			c.primary = a.reply.Primary
		}
	}
	return RequestReply{}, false
}
