package shardctrler

import (
	"fmt"
	"log"

	"vrlab/labrpc"
	"vrlab/vr"
)

// ShardCtrler is one replica of the shard controller: a vr.Node that
// replicates a stateMachine.
type ShardCtrler struct {
	node *vr.Node
}

// StartServer starts replica me of the shard controller; servers[j] reaches
// replica j. A restarted replica is a fresh StartServer with
// opts.Recovering: it starts with configuration 0 only, and VR brings the
// rest back. StartServer returns at once.
func StartServer(servers []*labrpc.ClientEnd, me int, opts vr.Options) *ShardCtrler {
	return &ShardCtrler{node: vr.Make(servers, me, newStateMachine(), opts)}
}

// Kill stops the replica.
func (sc *ShardCtrler) Kill() { sc.node.Kill() }

// Services returns what to register on this replica's labrpc server.
func (sc *ShardCtrler) Services() []*labrpc.Service { return sc.node.Services() }

// Node is the replica's VR node.
func (sc *ShardCtrler) Node() *vr.Node { return sc.node }

// stateMachine is the replicated state: every configuration so far,
// configs[i].Num == i. VR calls its methods from one goroutine at a time,
// so it needs no lock.
type stateMachine struct {
	configs []Config
}

var _ vr.StateMachine = (*stateMachine)(nil)

// newStateMachine returns the state of a fresh service: configuration 0
// only, with no groups and every shard on gid 0.
func newStateMachine() *stateMachine {
	return &stateMachine{configs: []Config{{Num: 0, Groups: map[int][]string{}}}}
}

// latest is the newest configuration (not a copy).
func (sm *stateMachine) latest() *Config { return &sm.configs[len(sm.configs)-1] }

// Apply executes one committed op and returns its result. It never panics:
// an op that does not decode returns resultBadOp, one that the service
// refuses returns resultRejected, and neither changes the state.
func (sm *stateMachine) Apply(b []byte) []byte {
	o, err := decodeOp(b)
	if err != nil {
		return errResult(resultBadOp, err)
	}
	switch o.kind {
	case opJoin:
		err = sm.join(o.servers)
	case opLeave:
		err = sm.leave(o.gids)
	case opMove:
		err = sm.move(o.shard, o.gid)
	case opQuery:
		c := sm.query(o.num)
		return okResult(&c)
	}
	if err != nil {
		return errResult(resultRejected, err)
	}
	return okResult(nil)
}

// Read answers a Query without changing the state (vr.Reader): with leases
// on, a primary holding them serves Queries from its state, without a
// PREPARE (Part F). Any other op gets resultBadOp.
func (sm *stateMachine) Read(b []byte) []byte {
	o, err := decodeOp(b)
	if err != nil {
		return errResult(resultBadOp, err)
	}
	if o.kind != opQuery {
		return errResult(resultBadOp, fmt.Errorf("shardctrler: op kind %d is not read-only", o.kind))
	}
	c := sm.query(o.num)
	return okResult(&c)
}

var _ vr.Reader = (*stateMachine)(nil)

// join adds the groups of servers (gid -> server names; every gid
// positive, at least one) and rebalances. It refuses, changing nothing, if
// one of the gids is already a group. servers belongs to the caller's op:
// copy what you keep.
func (sm *stateMachine) join(servers map[int][]string) error {
	//lab:begin SC
	cur := sm.latest()
	for _, gid := range sortedKeys(servers) {
		if _, ok := cur.Groups[gid]; ok {
			return fmt.Errorf("Join: gid %d is already a group of configuration %d", gid, cur.Num)
		}
	}
	next := cur.Copy()
	next.Num++
	for gid, names := range servers {
		next.Groups[gid] = append([]string(nil), names...)
	}
	next.Shards = rebalance(next.Shards, next.GIDs())
	sm.configs = append(sm.configs, next)
	return nil
	//lab:stub return nil
	//lab:end
}

// leave removes the groups gids (positive, distinct, at least one) and
// rebalances. It refuses, changing nothing, if one of them is not a group.
func (sm *stateMachine) leave(gids []int) error {
	//lab:begin SC
	cur := sm.latest()
	for _, gid := range gids {
		if _, ok := cur.Groups[gid]; !ok {
			return fmt.Errorf("Leave: gid %d is not a group of configuration %d", gid, cur.Num)
		}
	}
	next := cur.Copy()
	next.Num++
	for _, gid := range gids {
		delete(next.Groups, gid)
	}
	next.Shards = rebalance(next.Shards, next.GIDs())
	sm.configs = append(sm.configs, next)
	return nil
	//lab:stub return nil
	//lab:end
}

// move assigns shard (in range) to gid (positive), without rebalancing. It
// refuses, changing nothing, if gid is not a group.
func (sm *stateMachine) move(shard, gid int) error {
	//lab:begin SC
	cur := sm.latest()
	if _, ok := cur.Groups[gid]; !ok {
		return fmt.Errorf("Move: gid %d is not a group of configuration %d", gid, cur.Num)
	}
	next := cur.Copy()
	next.Num++
	next.Shards[shard] = gid
	sm.configs = append(sm.configs, next)
	return nil
	//lab:stub return nil
	//lab:end
}

// query returns configuration num, or the latest one if num is negative or
// past the latest. Apply encodes the result, so what query returns may
// share memory with the state.
func (sm *stateMachine) query(num int) Config {
	//lab:begin SC
	if num < 0 || num >= len(sm.configs) {
		return *sm.latest()
	}
	return sm.configs[num]
	//lab:stub return Config{}
	//lab:end
}

// Snapshot returns the state as bytes: every configuration. Equal states
// must give equal bytes (use the encoder in codec.go; it writes maps in
// gid order).
func (sm *stateMachine) Snapshot() []byte {
	//lab:begin SC
	return encodeConfigs(sm.configs)
	//lab:stub return nil
	//lab:end
}

// Restore replaces the state with a snapshot that Snapshot made.
func (sm *stateMachine) Restore(snapshot []byte) {
	//lab:begin SC
	configs, err := decodeConfigs(snapshot)
	if err != nil || len(configs) == 0 {
		// VR hands back only what Snapshot made: this is a bug, and
		// going on would serve wrong configurations.
		log.Panicf("shardctrler: Restore of a malformed snapshot (%d bytes): %v", len(snapshot), err)
	}
	sm.configs = configs
	//lab:end
}
