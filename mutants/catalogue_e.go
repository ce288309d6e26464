package main

// Part E: reconfiguration (LAB-E.md).
var partE = []Mutant{
	{
		Name: "old-epoch-accepted", Part: "E", Breaks: "§9.9: accepting messages of an older epoch",
		Edits: []Edit{edit(reconfig, "	case m.Epoch < r.epoch:\n", "	case m.Epoch < r.epoch && m.Type == MsgEpochStarted:\n")},
		Tests: []string{"TestRemovedReplicaQuietE"},
	},
	{
		Name: "retire-early", Part: "E", Breaks: "§8: a leaving replica stops before f'+1 EPOCHSTARTED",
		Edits: []Edit{edit(reconfig, "	if n >= r.quorum {\n", "	if n >= 1 {\n")},
		Tests: []string{"TestLeavingServesStateE"},
	},
	{
		Name: "reconfig-top-ignored", Part: "E", Breaks: "§8: ignoring a RECONFIGURATION at the top of the log after a view change",
		Edits: []Edit{edit(reconfig, "	return r.opNumber > r.epochStart && r.opNumber > r.executed && r.entry(r.opNumber).Members != nil\n",
			"	return r.opNumber > max(r.epochStart, r.viewStartOp) && r.opNumber > r.executed && r.entry(r.opNumber).Members != nil\n")},
		Tests: []string{"TestOldPrimaryCrashPreparedE"},
	},
	{
		Name: "requests-after-reconfig", Part: "E", Breaks: "§8: client requests accepted after the RECONFIGURATION is prepared",
		Edits: []Edit{edit(normal, "	if r.reconfigPending() {\n		return // the epoch is ending", "	if false && r.reconfigPending() {\n		return // the epoch is ending")},
		Tests: []string{"TestSecondReconfigRefusedE"},
	},
	{
		Name: "joiner-votes", Part: "E", Breaks: "§8: a standby (a new member without the state) that votes",
		Edits: []Edit{
			edit(reconfig, "		case MsgStartEpoch, MsgNewEpoch, MsgEpochStarted, MsgRequest, MsgReconfiguration:\n",
				"		case MsgStartEpoch, MsgNewEpoch, MsgEpochStarted, MsgRequest, MsgReconfiguration, MsgStartViewChange, MsgDoViewChange, MsgStartView:\n"),
			edit(reconfig, "func (r *Replica) tickTransitioning() {\n	//lab:begin E\n", "func (r *Replica) tickTransitioning() {\n	//lab:begin E\n	if !r.retired {\n		r.tickBackup() // times out into a view change like a backup\n	}\n"),
		},
		Tests: []string{"TestPartitionedNewReplicasE"},
	},
	{
		Name: "reconfig-before-inherited", Part: "E", Breaks: "§8: a reconfiguration accepted before the inherited ops are committed",
		Edits: []Edit{edit(reconfig, "	if r.commitNumber < r.viewStartOp {\n", "	if false && r.commitNumber < r.viewStartOp {\n")},
		Tests: []string{"TestInheritedOpsE"},
	},
	{
		Name: "second-reconfig-accepted", Part: "E", Breaks: "LAB-E: a second reconfiguration while one is in progress",
		Edits: []Edit{edit(reconfig, "	case r.reconfigPending():\n", "	case false && r.reconfigPending():\n")},
		Tests: []string{"TestSecondReconfigRefusedE"},
	},
	{
		Name: "same-config-accepted", Part: "E", Breaks: "LAB-E: the configuration already in force accepted",
		Edits: []Edit{edit(reconfig, "	if sameMembers(m.Members, r.config) {\n", "	if false && sameMembers(m.Members, r.config) {\n")},
		Tests: []string{"TestBadReconfigE"},
	},
	{
		Name: "no-epochstarted", Part: "E", Breaks: "LAB-E: new members never confirm (EPOCHSTARTED)",
		Edits: []Edit{
			edit(reconfig, "	if r.epoch == 0 || r.epochStartedSent {\n", "	if true || r.epochStartedSent {\n"),
			edit(reconfig, "	if m.Epoch == r.epoch && r.status == Normal && !contains(r.config, m.From) {\n", "	if false {\n"),
		},
		Tests: []string{"TestShrinkE"},
	},
	{
		Name: "no-newepoch-reply", Part: "E", Breaks: "LAB-E: an older epoch's sender is not told of the new one",
		Edits: []Edit{edit(reconfig, "		if m.Type != MsgEpochStarted {\n", "		if false {\n")},
		Tests: []string{"TestSleeperE"},
	},
	{
		Name: "newer-epoch-not-asked", Part: "E", Breaks: "LAB-E: a message of a newer epoch ignored instead of asked about",
		Edits: []Edit{edit(reconfig, "		if r.now-r.epochAskedAt >= r.opts.HeartbeatTicks || r.epochAskedAt == 0 {\n", "		if false {\n")},
		Tests: []string{"TestOldPrimaryCrashCommittedE"},
	},
	{
		Name: "join-answered-only-normal", Part: "E", Breaks: "LAB-E: a joining member's GETSTATE answered only by normal replicas",
		Edits: []Edit{edit(reconfig, "	if r.status == Recovering || r.status == Standby || (r.status == Transitioning && !r.retired) || r.executed < r.epochStart {\n",
			"	if (r.status != Normal && !r.retired) || r.executed < r.epochStart {\n")},
		Tests: []string{"TestOldPrimaryCrashCommittedE"},
	},
	{
		Name: "no-startepoch-resend", Part: "E", Breaks: "LAB-E: leaving replicas never resend STARTEPOCH",
		Edits: []Edit{edit(reconfig, "	start := r.startEpochMessage()\n	for _, p := range r.config {\n		if !r.epochStarted[p] {\n", "	start := r.startEpochMessage()\n	for _, p := range r.config {\n		if false {\n")},
		Tests: []string{"TestLeavingServesStateE"},
	},
	{
		Name: "joiner-keeps-stale-log", Part: "E", Breaks: "LAB-E: a joining member keeps its old epoch's uncommitted ops",
		Edits: []Edit{edit(reconfig, "	r.truncateLog(r.committedPoint())\n	if !r.extendLog(m.LogStart, m.Entries, m.Checkpoint) {\n		return\n	}\n	r.logf(\"epoch\", \"R%d holds",
			"	if !r.extendLog(m.LogStart, m.Entries, m.Checkpoint) {\n		return\n	}\n	r.logf(\"epoch\", \"R%d holds")},
		Tests: []string{"TestSleeperE"},
	},
	{
		Name: "join-ignores-own-log", Part: "E", Breaks: "LAB-E: an old member told of the epoch that does not see its own log holds the start",
		Edits: []Edit{edit(reconfig, "	if r.holdsEpochStart(m) {\n", "	if false && r.holdsEpochStart(m) {\n")},
		Tests: []string{"TestOldPrimaryCrashCommittedE"},
	},
}
