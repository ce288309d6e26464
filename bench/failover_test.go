package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"vrlab/bench/system"
)

// TestFailover runs two kills of every failover system through the real
// harness, with a short timing so it stays quick: a new leader must
// commit, and no acknowledged write may be missing from the survivors
// (runKill checks both; lost counts what a survivor lacks).
func TestFailover(t *testing.T) {
	timing := system.Timing{Heartbeat: 20 * time.Millisecond, Election: 200 * time.Millisecond}
	for _, s := range failoverSystems {
		t.Run(s.name, func(t *testing.T) {
			for k := range 2 {
				res, err := runKill(s, timing, 300*time.Millisecond)
				require.NoError(t, err, "kill %d", k+1)
				require.Zero(t, res.lost, "kill %d: acknowledged writes lost", k+1)
				require.Positive(t, res.acked)
				require.Positive(t, res.failover)
				require.NotEmpty(t, res.inflight, "the clients' commands at the kill were in flight across it")
				if res.seen {
					require.LessOrEqual(t, res.detect, res.failover)
				}
			}
		})
	}
}

// TestMissing checks the check: a survivor whose state lacks the last
// acknowledged write of a key, or holds an older version of it, is short
// of that write.
func TestMissing(t *testing.T) {
	kv := system.NewKV()
	acks := [][]ack{make([]ack, system.KeysPerClient)}
	for seq := range 3 {
		res := kv.Apply(system.Command(0, seq))
		acks[0][seq] = ack{uint64(seq), uint64(res[0]), true}
	}
	require.Zero(t, missing(kv, acks))
	acks[0][1] = ack{1 + system.KeysPerClient, 2, true} // a later write of key 1, never applied
	acks[0][2].version = 5                              // a newer version of key 2 than the state's
	acks[0][3] = ack{3, 1, true}                        // key 3, never written
	require.Equal(t, 3, missing(kv, acks))
}

func TestFailoverTable(t *testing.T) {
	timing := system.Timing{Heartbeat: 50 * time.Millisecond, Election: 500 * time.Millisecond}
	kill := func(failover, detect time.Duration) killResult {
		return killResult{failover: failover, detect: detect, seen: true, inflight: []time.Duration{failover}, acked: 100}
	}
	rows := []*foRow{
		{failoverSystems[0], []killResult{kill(600*time.Millisecond, 550*time.Millisecond), kill(700*time.Millisecond, 690*time.Millisecond)}},
		{failoverSystems[1], []killResult{kill(1200*time.Millisecond, 700*time.Millisecond)}},
		{failoverSystems[2], []killResult{kill(640*time.Millisecond, 639*time.Millisecond)}},
	}
	md := foMarkdown(rows, timing)
	require.Contains(t, md, "| vrlab | HeartbeatTicks 5, ViewChangeTicks 50 (10ms ticks) | 2 | 650 | 700 | 600 | 700 | 30 (50) | 700 | 200 | 0 |")
	require.Contains(t, md, "| etcd | HeartbeatTick 5, ElectionTick 50 (10ms ticks), CheckQuorum, PreVote | 1 | 640 |")
	require.Equal(t, "- failover: vrlab median 650 ms, best peer 640 ms (etcd); goal ≤: NOT met\n", foGoal(rows))
	_, err := chooseFailover("vrlab,nosuch")
	require.ErrorContains(t, err, `no failover system "nosuch"`)
	chosen, err := chooseFailover("vrlab-poll")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(chosen[0].name, "vrlab"))
}
