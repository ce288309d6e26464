package main

// Part D: checkpoints (LAB-D.md).
var partD = []Mutant{
	{
		Name: "checkpoint-drops-tail", Part: "D", Breaks: "§9.12: discarding log entries beyond the checkpoint",
		Edits: []Edit{edit(checkpoint, "	r.log = append([]Entry(nil), r.log[r.executed-r.logStart:]...)\n", "	r.log, r.opNumber = nil, r.executed\n	r.rebuildPending()\n")},
		Tests: []string{"TestSimSweepD"},
	},
	{
		Name: "checkpoint-no-clients", Part: "D", Breaks: "§9.12: a checkpoint that omits the client-table",
		Edits: []Edit{edit(checkpoint, "		ClientTable: r.clients.records(),\n", "")},
		Tests: []string{"TestClientTableCheckpointD"},
	},
}
