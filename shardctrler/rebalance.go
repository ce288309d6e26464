package shardctrler

import (
	"maps"
	"slices"
)

// rebalance returns a new assignment of the shards to the groups gids
// (distinct, positive, in increasing order), starting from shards, the
// assignment before a Join or Leave. With no groups, every shard goes to
// gid 0. Otherwise:
//
//   - every shard goes to one of gids;
//   - the groups' shard counts differ by at most one (with more groups than
//     shards, some groups get none);
//   - as few shards as possible change group: a shard stays where it is
//     unless its group is gone, it is unassigned (gid 0), or its group holds
//     more than its share;
//   - the result depends only on shards and gids: every replica computes
//     the same. Never let the order of a map decide anything.
func rebalance(shards [NShards]int, gids []int) [NShards]int {
	//lab:begin SC
	if len(gids) == 0 {
		return [NShards]int{}
	}

	// What each surviving group holds now.
	held := make(map[int][]int, len(gids)) // gid -> its shards, increasing
	for _, gid := range gids {
		held[gid] = nil
	}
	var free []int // shards whose group is gone, or unassigned
	for shard, gid := range shards {
		if _, ok := held[gid]; ok {
			held[gid] = append(held[gid], shard)
		} else {
			free = append(free, shard)
		}
	}

	// Targets: every group gets base shards, and extra groups get one more.
	// The extra ones go to the groups that hold the most now (ties: lower
	// gid), which keeps the most shards in place.
	order := slices.Clone(gids)
	slices.SortStableFunc(order, func(a, b int) int { return len(held[b]) - len(held[a]) })
	base, extra := NShards/len(gids), NShards%len(gids)
	target := make(map[int]int, len(gids))
	for i, gid := range order {
		target[gid] = base
		if i < extra {
			target[gid]++
		}
	}

	// Groups over their target give up their highest shards, only the excess.
	for _, gid := range order {
		if n := len(held[gid]); n > target[gid] {
			free = append(free, held[gid][target[gid]:]...)
			held[gid] = held[gid][:target[gid]]
		}
	}
	slices.Sort(free)

	// The free shards fill the groups under their target, least loaded first.
	slices.Reverse(order) // least loaded first; ties: higher gid first
	out := shards
	for _, gid := range order {
		for len(held[gid]) < target[gid] {
			out[free[0]] = gid
			held[gid] = append(held[gid], free[0])
			free = free[1:]
		}
	}
	return out
	//lab:stub return shards
	//lab:end
}

// sortedKeys returns the keys of m in increasing order.
func sortedKeys[V any](m map[int]V) []int {
	return slices.Sorted(maps.Keys(m))
}
