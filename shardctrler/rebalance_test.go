package shardctrler

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// minMoves is the fewest shards that must change group when the
// assignment shards is rebalanced onto the groups gids. It is computed
// independently of rebalance: a balanced assignment gives every group base
// or base+1 shards, exactly NShards%len(gids) of them base+1; a group can
// keep at most min(held, target) of the shards it holds; and a dynamic
// program over the groups finds the targets that keep the most.
func minMoves(shards [NShards]int, gids []int) int {
	if len(gids) == 0 {
		moved := 0
		for _, gid := range shards {
			if gid != 0 {
				moved++
			}
		}
		return moved
	}
	held := map[int]int{}
	for _, gid := range shards {
		held[gid]++
	}
	base, extra := NShards/len(gids), NShards%len(gids)
	// best[j]: the most shards kept with j groups given base+1 so far.
	best := make([]int, extra+1)
	for j := 1; j <= extra; j++ {
		best[j] = -1 << 30
	}
	for _, gid := range gids {
		next := make([]int, extra+1)
		for j := range next {
			next[j] = best[j] + min(held[gid], base)
			if j > 0 {
				next[j] = max(next[j], best[j-1]+min(held[gid], base+1))
			}
		}
		best = next
	}
	return NShards - best[extra]
}

// checkBalanced returns why shards is not a balanced assignment to gids, or
// "".
func checkBalanced(shards [NShards]int, gids []int) string {
	count := map[int]int{}
	for shard, gid := range shards {
		if len(gids) == 0 && gid != 0 {
			return fmt.Sprintf("shard %d on gid %d with no groups", shard, gid)
		}
		if len(gids) > 0 && !slices.Contains(gids, gid) {
			return fmt.Sprintf("shard %d on gid %d, not one of the groups %v", shard, gid, gids)
		}
		count[gid]++
	}
	if len(gids) == 0 {
		return ""
	}
	lo, hi := NShards, 0
	for _, gid := range gids {
		lo, hi = min(lo, count[gid]), max(hi, count[gid])
	}
	if hi-lo > 1 {
		return fmt.Sprintf("unbalanced: a group holds %d shards and another %d: %v", hi, lo, shards)
	}
	return ""
}

func moved(a, b [NShards]int) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestRebalanceExamples(t *testing.T) {
	for _, tc := range []struct {
		name  string
		from  [NShards]int
		gids  []int
		moves int
	}{
		{"first join", [NShards]int{}, []int{1}, 10},
		{"second join", [NShards]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []int{1, 2}, 5},
		{"third join", [NShards]int{1, 1, 1, 1, 1, 2, 2, 2, 2, 2}, []int{1, 2, 3}, 3},
		{"leave", [NShards]int{1, 1, 1, 1, 2, 2, 2, 3, 3, 3}, []int{1, 3}, 3},
		{"leave uneven", [NShards]int{1, 1, 1, 1, 2, 2, 2, 3, 3, 3}, []int{2, 3}, 4},
		{"last leave", [NShards]int{4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, nil, 10},
		{"after moves", [NShards]int{1, 1, 1, 1, 1, 1, 1, 1, 2, 2}, []int{1, 2, 3}, 4},
		{"many groups", [NShards]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 0},
		{"many groups leave", [NShards]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 1},
		{"unassigned shards", [NShards]int{0, 0, 1, 1, 1, 2, 2, 2, 2, 2}, []int{1, 2}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rebalance(tc.from, tc.gids)
			if why := checkBalanced(got, tc.gids); why != "" {
				t.Fatalf("rebalance(%v, %v) = %v: %s", tc.from, tc.gids, got, why)
			}
			if m := moved(tc.from, got); m != tc.moves || minMoves(tc.from, tc.gids) != tc.moves {
				t.Fatalf("rebalance(%v, %v) = %v moved %d shards; the minimum is %d (independent computation: %d)",
					tc.from, tc.gids, got, m, tc.moves, minMoves(tc.from, tc.gids))
			}
		})
	}
}

// randomOps returns a random sequence of Join, Leave and Move ops (encoded)
// that the service accepts, starting from configuration 0.
func randomOps(rng *rand.Rand, n int, moves bool) [][]byte {
	var ops [][]byte
	var live []int
	nextGID := 1
	for len(ops) < n {
		switch k := rng.Intn(10); {
		case k < 4 || len(live) == 0:
			servers := map[int][]string{}
			for range 1 + rng.Intn(3) {
				servers[nextGID] = []string{fmt.Sprintf("s%d-a", nextGID), fmt.Sprintf("s%d-b", nextGID)}
				live = append(live, nextGID)
				nextGID++
			}
			ops = append(ops, encodeJoin(servers))
		case k < 8:
			rng.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
			m := 1 + rng.Intn(min(3, len(live)))
			ops = append(ops, encodeLeave(slices.Clone(live[:m])))
			live = live[m:]
		case moves:
			ops = append(ops, encodeMove(rng.Intn(NShards), live[rng.Intn(len(live))]))
		}
	}
	return ops
}

// TestRebalanceProperties runs random join/leave/move sequences and checks
// every rebalance: all shards on live groups (or all on 0 with no groups),
// counts within one, and exactly the minimum of moves.
func TestRebalanceProperties(t *testing.T) {
	for seed := int64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewSource(seed))
		sm := newStateMachine()
		made := []string{string(okResult(sm.latest()))} // each configuration as it was made
		for i, b := range randomOps(rng, 40, seed%2 == 0) {
			before := *sm.latest()
			if res := sm.Apply(b); res[0] != resultOK {
				t.Fatalf("seed %d op %d: %s", seed, i, res[1:])
			}
			after := *sm.latest()
			made = append(made, string(okResult(&after)))
			if after.Num != before.Num+1 {
				t.Fatalf("seed %d op %d: configuration %d followed %d", seed, i, after.Num, before.Num)
			}
			if b[0] == byte(opMove) {
				continue
			}
			gids := after.GIDs()
			if why := checkBalanced(after.Shards, gids); why != "" {
				t.Fatalf("seed %d op %d: configuration %d: %s", seed, i, after.Num, why)
			}
			if got, want := moved(before.Shards, after.Shards), minMoves(before.Shards, gids); got != want {
				t.Fatalf("seed %d op %d: from %v to groups %v rebalance moved %d shards (%v); the minimum is %d",
					seed, i, before.Shards, gids, got, after.Shards, want)
			}
		}
		for num, want := range made {
			if got := okResult(&sm.configs[num]); string(got) != want {
				t.Fatalf("seed %d: configuration %d changed after it was made (do new configurations share maps with old ones?)", seed, num)
			}
		}
	}
}

// TestRebalanceExhaustive checks every assignment of the shards to gids
// 0..2, rebalanced onto every subset of the groups {1..4}.
func TestRebalanceExhaustive(t *testing.T) {
	var shards [NShards]int
	total := 1
	for range NShards {
		total *= 3
	}
	for code := 0; code < total; code++ {
		c := code
		for i := range shards {
			shards[i] = c % 3
			c /= 3
		}
		for subset := 0; subset < 16; subset++ {
			var gids []int
			for g := 1; g <= 4; g++ {
				if subset&(1<<(g-1)) != 0 {
					gids = append(gids, g)
				}
			}
			got := rebalance(shards, gids)
			if why := checkBalanced(got, gids); why != "" {
				t.Fatalf("rebalance(%v, %v) = %v: %s", shards, gids, got, why)
			}
			if m, want := moved(shards, got), minMoves(shards, gids); m != want {
				t.Fatalf("rebalance(%v, %v) = %v moved %d shards; the minimum is %d", shards, gids, got, m, want)
			}
		}
	}
}

// TestRebalanceDeterministic: the same sequence of ops gives the same
// configurations, byte for byte, however the maps inside happen to iterate.
func TestRebalanceDeterministic(t *testing.T) {
	for seed := int64(1); seed <= 50; seed++ {
		ops := randomOps(rand.New(rand.NewSource(seed)), 30, true)
		var first []byte
		for run := 0; run < 5; run++ {
			sm := newStateMachine()
			for _, b := range ops {
				sm.Apply(b)
			}
			snap := sm.Snapshot()
			if run == 0 {
				first = snap
			} else if string(snap) != string(first) {
				t.Fatalf("seed %d: run %d of the same ops gave different configurations", seed, run)
			}
		}
	}
}
