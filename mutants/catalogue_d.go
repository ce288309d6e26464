package main

// Part D: checkpoints (LAB-D.md).
var partD = []Mutant{
	{
		Name: "checkpoint-drops-tail", Part: "D", Breaks: "§9.12; LAB-D: discarding beyond the executed point",
		Edits: []Edit{edit(checkpoint, "	r.log = append([]Entry(nil), r.log[r.executed-r.logStart:]...)\n", "	r.log, r.opNumber = nil, r.executed\n	r.rebuildPending()\n")},
		Tests: []string{"TestSimSweepD"},
	},
	{
		Name: "checkpoint-cut-at-commit", Part: "D", Breaks: "LAB-D: discarding beyond the executed point (up to the commit-number)",
		Edits: []Edit{edit(checkpoint, "	r.log = append([]Entry(nil), r.log[r.executed-r.logStart:]...)\n", "	r.log = append([]Entry(nil), r.log[r.commitNumber-r.logStart:]...)\n")},
		Tests: []string{"TestLogBoundedD"},
	},
	{
		Name: "checkpoint-no-clients", Part: "D", Breaks: "§9.12; LAB-D: a checkpoint without the client-table",
		Edits: []Edit{edit(checkpoint, "		ClientTable: r.clients.records(),\n", "")},
		Tests: []string{"TestClientTableCheckpointD"},
	},
	{
		Name: "install-no-clients", Part: "D", Breaks: "LAB-D: a checkpoint without the client-table (not restored on install)",
		Edits: []Edit{edit(checkpoint, "	r.clients.restore(cp.ClientTable)\n", "")},
		Tests: []string{"TestClientTableCheckpointD"},
	},
	{
		Name: "compact-off-by-one", Part: "D", Breaks: "LAB-D: off-by-one after compaction",
		Edits: []Edit{edit(checkpoint, "	r.log = append([]Entry(nil), r.log[r.executed-r.logStart:]...)\n", "	r.log = append([]Entry(nil), r.log[r.executed-r.logStart-1:]...)\n")},
		Tests: []string{"TestLogBoundedD"},
	},
	{
		Name: "checkpoint-logstart-apart", Part: "D", Breaks: "LAB-D: setting the checkpoint and the log start apart",
		Edits: []Edit{edit(checkpoint, "	r.logStart = r.executed\n	r.checkpoint = cp\n", "	r.checkpoint = cp\n")},
		Tests: []string{"TestLogBoundedD"},
	},
	{
		Name: "install-logstart-apart", Part: "D", Breaks: "LAB-D: setting the checkpoint and the log start apart (on install)",
		Edits: []Edit{edit(checkpoint, "	r.log = nil\n	r.checkpoint = cp\n	return true\n", "	r.log = nil\n	return true\n")},
		Tests: []string{"TestSimSweepD"},
	},
	{
		Name: "checkpoint-commit-label", Part: "D", Breaks: "LAB-D: the wrong op-number on the snapshot",
		Edits: []Edit{edit(checkpoint, "		OpNumber:    r.executed,\n", "		OpNumber:    r.commitNumber,\n")},
		Tests: []string{"TestLogBoundedD"},
	},
	{
		Name: "checkpoint-multiples-of-k", Part: "D", Breaks: "LAB-D: checkpointing only at multiples of K",
		Edits: []Edit{
			edit(checkpoint, "	if every == 0 || r.executed-r.checkpointOp() < every {", "	if every == 0 || r.executed%every != 0 {"),
			edit(normal, "		r.maybeCheckpoint()\n	}\n", "	}\n	r.maybeCheckpoint()\n"),
		},
		Tests: []string{"TestCheckpointInBatchD", "TestLogBoundedD"},
	},
	{
		Name: "dvc-no-checkpoint", Part: "D", Breaks: "LAB-D: a new primary that can't adopt the chosen log",
		Edits: []Edit{edit(viewchange, "		Entries:        r.logAfter(r.logStart),\n		Checkpoint:     r.checkpoint,\n", "		Entries:        r.logAfter(r.logStart),\n")},
		Tests: []string{"TestNewPrimaryBehindD"},
	},
	{
		Name: "startview-own-log-fallback", Part: "D", Breaks: "LAB-D: a new primary that can't adopt the chosen log (falls back to its own)",
		Edits: []Edit{
			edit(viewchange, "		Entries:        r.logAfter(r.logStart),\n		Checkpoint:     r.checkpoint,\n", "		Entries:        r.logAfter(r.logStart),\n"),
			edit(viewchange, "		r.logf(\"view\", \"R%d cannot adopt the log of R%d for view %d\", r.id, best.From, r.view)\n		return\n",
				"		r.logf(\"view\", \"R%d cannot adopt the log of R%d for view %d\", r.id, best.From, r.view)\n"),
		},
		Tests: []string{"TestNewPrimaryBehindD"},
	},
	{
		Name: "newstate-no-clamp", Part: "D", Breaks: "LAB-D: a NEWSTATE from below the checkpoint",
		Edits: []Edit{edit(statetransfer, "	if from < r.logStart {\n		from = r.logStart\n		reply.Checkpoint = r.checkpoint\n	}\n", "")},
		Tests: []string{"TestCatchUpViaCheckpointD"},
	},
	{
		Name: "newstate-no-checkpoint", Part: "D", Breaks: "LAB-D: a NEWSTATE from below the checkpoint (clamped, checkpoint not attached)",
		Edits: []Edit{edit(statetransfer, "		from = r.logStart\n		reply.Checkpoint = r.checkpoint\n", "		from = r.logStart\n")},
		Tests: []string{"TestCatchUpViaCheckpointD"},
	},
	{
		Name: "checkpoint-modified", Part: "D", Breaks: "LAB-D: modifying a Checkpoint",
		Edits: []Edit{edit(checkpoint, "	cp := &Checkpoint{\n		OpNumber:    r.executed,\n		State:       r.sm.Snapshot(),\n		ClientTable: r.clients.records(),\n	}\n",
			"	cp := r.checkpoint\n	if cp == nil {\n		cp = &Checkpoint{}\n	}\n	cp.OpNumber, cp.State, cp.ClientTable = r.executed, r.sm.Snapshot(), r.clients.records()\n")},
		Tests: []string{"TestSimSweepD"},
	},
	{
		Name: "commit-carries-checkpoint", Part: "D", Breaks: "LAB-D: the checkpoint on every message",
		Edits: []Edit{edit(normal, "	return Message{Type: MsgCommit, View: r.view, CommitNumber: r.commitNumber}\n", "	return Message{Type: MsgCommit, View: r.view, CommitNumber: r.commitNumber, LogStart: r.logStart, Checkpoint: r.checkpoint}\n")},
		Tests: []string{"TestCheckpointBytesD"},
	},
}
