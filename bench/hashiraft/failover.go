package hashiraft

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/raft"

	"vrlab/bench/system"
)

// NewFailover is New with the failover benchmark's timing (failoverConfig)
// and no logging, as a system.Failover.
func NewFailover(transport string, timing system.Timing) (system.Failover, error) {
	if timing.Heartbeat*10 != timing.Election {
		return nil, fmt.Errorf("hashiraft: a heartbeat of %v with an election timeout of %v: hashicorp always heartbeats every HeartbeatTimeout/10, so the heartbeat must be a tenth of the timeout", timing.Heartbeat, timing.Election)
	}
	return newGroup(transport, &timing)
}

// failoverConfig sets hashicorp's three timeouts from the failover
// benchmark's timing. HeartbeatTimeout is a follower's election timeout: it
// becomes a candidate once it has heard nothing from the leader for that
// long, checked on a timer that fires every [T, 2T). The leader sends
// heartbeats every [T/10, T/5) (replication.go: randomTimeout(T/10)), so
// the heartbeat is timing.Heartbeat = T/10 (NewFailover checks it). A
// candidate that gets no quorum waits ElectionTimeout, randomized the same
// way, before it tries again; a leader that hears from no quorum for
// LeaderLeaseTimeout steps down (hashicorp's check-quorum), which may not
// be longer than HeartbeatTimeout. All three are timing.Election.
func failoverConfig(c *raft.Config, timing system.Timing) {
	c.HeartbeatTimeout = timing.Election
	c.ElectionTimeout = timing.Election
	c.LeaderLeaseTimeout = timing.Election
}

// KillLeader crashes the leader: raft stops (Shutdown: its goroutines end,
// it sends nothing more, Submits waiting on it fail), and its connections
// and listener close, as when a process dies (system.Failover).
func (g *group) KillLeader() (int, error) {
	var l *replica
	for _, rep := range g.replicas {
		if rep.raft.State() == raft.Leader {
			l = rep
		}
	}
	if l == nil {
		return -1, errors.New("hashiraft: no leader to kill")
	}
	g.leader.CompareAndSwap(l, nil)
	close(l.dead)
	f := l.raft.Shutdown() // stops it at once; f waits for its goroutines
	if len(g.streams) > 0 {
		s := g.streams[l.id]
		_ = l.trans.Close() // the listener, quietly (the transport knows it is closing)
		s.closeConns()
		s.closeAll()
	}
	if err := f.Error(); err != nil {
		return l.id, fmt.Errorf("hashiraft: shut down replica %d: %w", l.id, err)
	}
	return l.id, nil
}

// Electing reports whether a replica still running is a candidate or the
// leader (system.Failover); hashicorp's pre-vote runs in the candidate
// state. A killed replica is in the Shutdown state.
func (g *group) Electing() bool {
	for _, rep := range g.replicas {
		if s := rep.raft.State(); s == raft.Candidate || s == raft.Leader {
			return true
		}
	}
	return false
}

// ErrKilled is returned by a Submit whose Apply was at a replica the
// failover benchmark killed: it may or may not be applied.
var ErrKilled = errors.New("hashiraft: the leader was killed")

// waitApplied waits for f, an Apply at l, to finish, unless ctx ends or l
// is killed first. Without this a Submit could wait forever: the Apply
// futures of a raft that shuts down are not all answered (those of
// entries committed but not yet handed to the FSM never are:
// hashicorp/raft issue #498).
func waitApplied(ctx context.Context, l *replica, f raft.ApplyFuture) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-l.dead:
		select {
		case err := <-done: // finished as it was killed
			return err
		default:
			return ErrKilled
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// KV is replica i's state machine (system.Failover).
func (g *group) KV(i int) *system.KV { return g.replicas[i].kv }
