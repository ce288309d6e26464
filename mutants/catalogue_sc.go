package main

// Part SC (LAB-SC.md).

const (
	scServer    = "shardctrler/server.go"
	scRebalance = "shardctrler/rebalance.go"
)

var partSC = []Mutant{
	{
		Name: "sc-rebalance-map-order", Part: "SC", Breaks: "LAB-SC: map order (ties in the rebalance broken by map order)",
		Edits: []Edit{edit(scRebalance, "	order := slices.Clone(gids)\n", "	order := slices.Collect(maps.Keys(held))\n")},
		Tests: []string{"TestAgreeAfterPrimaryCrashSC", "TestHistoricalQueriesSC"},
	},
	{
		Name: "sc-shared-groups-join", Part: "SC", Breaks: "LAB-SC: shared maps (Join copies the Config struct, not its Groups)",
		Edits: []Edit{edit(scServer, "	next := cur.Copy()\n	next.Num++\n	for gid, names := range servers {",
			"	next := *cur\n	next.Num++\n	for gid, names := range servers {")},
		Tests: []string{"TestJoinLeaveBasicSC", "TestMinimalTransferJoinSC"},
	},
	{
		Name: "sc-shared-groups-leave", Part: "SC", Breaks: "LAB-SC: shared maps (Leave copies the Config struct, not its Groups)",
		Edits: []Edit{edit(scServer, "	next := cur.Copy()\n	next.Num++\n	for _, gid := range gids {\n		delete(",
			"	next := *cur\n	next.Num++\n	for _, gid := range gids {\n		delete(")},
		Tests: []string{"TestJoinLeaveBasicSC", "TestMinimalTransferLeaveSC"},
	},
	{
		Name: "sc-move-rebalances", Part: "SC", Breaks: "LAB-SC: rebalancing on Move",
		Edits: []Edit{edit(scServer, "	next.Shards[shard] = gid\n", "	next.Shards[shard] = gid\n	next.Shards = rebalance(next.Shards, next.GIDs())\n")},
		Tests: []string{"TestMoveSC"},
	},
	{
		Name: "sc-take-all-from-over", Part: "SC", Breaks: "LAB-SC: groups over their target (taking all their shards, not only the excess)",
		Edits: []Edit{edit(scRebalance, "			free = append(free, held[gid][target[gid]:]...)\n			held[gid] = held[gid][:target[gid]]\n",
			"			free = append(free, held[gid]...)\n			held[gid] = nil\n")},
		Tests: []string{"TestMinimalTransferJoinSC", "TestConcurrentJoinLeaveSC"},
	},
	{
		Name: "sc-trim-to-base", Part: "SC", Breaks: "LAB-SC: groups over their target (taking from groups at their target too: every group cut to base)",
		Edits: []Edit{edit(scRebalance, "		if n := len(held[gid]); n > target[gid] {\n			free = append(free, held[gid][target[gid]:]...)\n			held[gid] = held[gid][:target[gid]]\n",
			"		if n := len(held[gid]); n > base {\n			free = append(free, held[gid][base:]...)\n			held[gid] = held[gid][:base]\n")},
		Tests: []string{"TestMinimalTransferJoinSC", "TestConcurrentJoinLeaveSC"},
	},
	{
		Name: "sc-extra-to-low-gids", Part: "SC", Breaks: "LAB-SC: which groups get the extra shard (the lowest gids, not those holding the most)",
		Edits: []Edit{edit(scRebalance, "	slices.SortStableFunc(order, func(a, b int) int { return len(held[b]) - len(held[a]) })\n", "")},
		Tests: []string{"TestMinimalTransferJoinSC", "TestMinimalTransferLeaveSC"},
	},
	{
		Name: "sc-many-groups-by-index", Part: "SC", Breaks: "LAB-SC: more groups than shards (shard i to the i-th gid)",
		Edits: []Edit{edit(scRebalance, "		return [NShards]int{}\n	}\n",
			"		return [NShards]int{}\n	}\n	if len(gids) >= NShards {\n		var out [NShards]int\n		copy(out[:], gids)\n		return out\n	}\n")},
		Tests: []string{"TestMinimalTransferLeaveSC", "TestMinimalTransferJoinSC"},
	},
	{
		Name: "sc-last-leave-keeps", Part: "SC", Breaks: "LAB-SC: the last Leave (shards left on the departed groups)",
		Edits: []Edit{edit(scRebalance, "		return [NShards]int{}\n", "		return shards\n")},
		Tests: []string{"TestJoinLeaveBasicSC", "TestMinimalTransferLeaveSC"},
	},
	{
		Name: "sc-rebalance-no-groups-panics", Part: "SC", Breaks: "LAB-SC: panics (rebalance with no groups divides by zero)",
		Edits: []Edit{edit(scRebalance, "	if len(gids) == 0 {\n		return [NShards]int{}\n	}\n", "")},
		Tests: []string{"TestJoinLeaveBasicSC"},
	},
	{
		Name: "sc-query-past-latest", Part: "SC", Breaks: "LAB-SC: Query(-1) and numbers past the latest (past the latest indexes out of range)",
		Edits: []Edit{edit(scServer, "	if num < 0 || num >= len(sm.configs) {\n", "	if num < 0 {\n")},
		Tests: []string{"TestJoinLeaveBasicSC"},
	},
	{
		Name: "sc-snapshot-latest-only", Part: "SC", Breaks: "LAB-SC: snapshot (only the latest configuration encoded)",
		Edits: []Edit{edit(scServer, "	return encodeConfigs(sm.configs)\n", "	return encodeConfigs(sm.configs[len(sm.configs)-1:])\n")},
		Tests: []string{"TestHistoricalQueriesSC"},
	},
	{
		Name: "sc-restore-appends", Part: "SC", Breaks: "LAB-SC: snapshot (Restore adds to the state instead of replacing it)",
		Edits: []Edit{edit(scServer, "	sm.configs = configs\n", "	sm.configs = append(sm.configs, configs...)\n")},
		Tests: []string{"TestHistoricalQueriesSC"},
	},
}
