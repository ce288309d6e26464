package shardctrler

import (
	"context"
	"log"

	"vrlab/labrpc"
	"vrlab/vr"
)

// Clerk is a client of the shard controller. Each call executes exactly
// once, through the VR log, and returns when it has; the vr.Client retries
// across view changes and lost messages. A Query is a read (vr.Client.Read):
// with leases on it is answered by the primary from its state, without a
// PREPARE. A Clerk makes one call at a time.
type Clerk struct {
	vc *vr.Client
}

// MakeClerk makes a clerk of the shard controller reached through servers.
func MakeClerk(servers []*labrpc.ClientEnd) *Clerk {
	return &Clerk{vc: vr.MakeClient(servers)}
}

// Join adds the groups of servers (gid -> server names) and rebalances. A
// gid that is already a group makes the whole Join a no-op (see JoinContext
// for the error).
func (ck *Clerk) Join(servers map[int][]string) {
	ck.report("Join", ck.JoinContext(context.Background(), servers))
}

// Leave removes the groups gids and rebalances.
func (ck *Clerk) Leave(gids []int) {
	ck.report("Leave", ck.LeaveContext(context.Background(), gids))
}

// Move assigns shard to group gid.
func (ck *Clerk) Move(shard int, gid int) {
	ck.report("Move", ck.MoveContext(context.Background(), shard, gid))
}

// Query returns configuration num, or the latest one if num is negative (-1
// by convention) or past the latest. The Config is the caller's own:
// changing it changes nothing else.
func (ck *Clerk) Query(num int) Config {
	c, err := ck.QueryContext(context.Background(), num)
	ck.report("Query", err)
	return c
}

func (ck *Clerk) report(what string, err error) {
	if err != nil {
		log.Printf("shardctrler: %s: %v", what, err)
	}
}

// JoinContext is Join that gives up when ctx ends. The error is ctx's, or
// wraps ErrRejected if the service refused the Join.
func (ck *Clerk) JoinContext(ctx context.Context, servers map[int][]string) error {
	_, err := ck.invoke(ctx, encodeJoin(servers), false)
	return err
}

// LeaveContext is Leave that gives up when ctx ends.
func (ck *Clerk) LeaveContext(ctx context.Context, gids []int) error {
	_, err := ck.invoke(ctx, encodeLeave(gids), false)
	return err
}

// MoveContext is Move that gives up when ctx ends.
func (ck *Clerk) MoveContext(ctx context.Context, shard int, gid int) error {
	_, err := ck.invoke(ctx, encodeMove(shard, gid), false)
	return err
}

// QueryContext is Query that gives up when ctx ends.
func (ck *Clerk) QueryContext(ctx context.Context, num int) (Config, error) {
	result, err := ck.vc.ReadContext(ctx, encodeQuery(num))
	if err != nil {
		return Config{}, err
	}
	return decodeResult(result, true)
}

// invoke runs one op through the VR log. A call that gave up may still
// execute later.
func (ck *Clerk) invoke(ctx context.Context, op []byte, query bool) (Config, error) {
	result, err := ck.vc.InvokeContext(ctx, op)
	if err != nil {
		return Config{}, err
	}
	return decodeResult(result, query)
}
