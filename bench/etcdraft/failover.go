package etcdraft

import (
	"errors"

	"go.etcd.io/raft/v3"

	"vrlab/bench/system"
)

// NewFailover is New with the failover benchmark's timing (failoverTicks),
// as a system.Failover. CheckQuorum and PreVote stay on, as in New.
func NewFailover(transport string, timing system.Timing) (system.Failover, error) {
	return newGroup(transport, snapshotEvery, snapshotCatchUp, raft.ReadOnlySafe, &timing)
}

// failoverTicks maps the failover benchmark's timing onto raft.Config, in
// ticks of tickInterval (10 ms, vrlab's TickInterval too): the leader
// heartbeats every HeartbeatTick ticks, and a follower that has heard
// nothing from it for a randomized election timeout, drawn from
// [ElectionTick, 2×ElectionTick−1] ticks, campaigns (first a pre-vote,
// which the other follower grants once it too has not heard from the
// leader for ElectionTick ticks: CheckQuorum's lease).
func failoverTicks(t system.Timing) (election, heartbeat int) {
	return system.Ticks(t.Election, tickInterval), system.Ticks(t.Heartbeat, tickInterval)
}

// TickInterval is the real time of one raft tick.
const TickInterval = tickInterval

// KillLeader crashes the leader, as if its process died (system.Failover):
// its connections close, its Ready loop stops (it persists, sends and
// applies nothing more), the Submits waiting on it fail with ErrKilled, and
// its node stops.
func (g *group) KillLeader() (int, error) {
	r := g.findLeader()
	if r == nil {
		return -1, errors.New("etcdraft: no leader to kill")
	}
	r.kill()
	return int(r.id - 1), nil
}

func (r *replica) kill() {
	r.killOnce.Do(func() {
		r.g.tr.kill(r) // silent at once
		close(r.dead)  // the Ready loop ends, and the waits on r
		<-r.loopDone
		r.leading.Store(false)
		r.node.Stop()
	})
}

func (r *replica) killed() bool {
	select {
	case <-r.dead:
		return true
	default:
		return false
	}
}

// Electing reports whether a replica that is not killed is a pre-candidate,
// a candidate or the leader (system.Failover).
func (g *group) Electing() bool {
	for _, r := range g.reps {
		if s := raft.StateType(r.raftState.Load()); !r.killed() && s != raft.StateFollower {
			return true
		}
	}
	return false
}

// KV is replica i's state machine (system.Failover).
func (g *group) KV(i int) *system.KV { return g.reps[i].kv }
