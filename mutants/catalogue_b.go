package main

// Part B: the log and normal operation (LAB-B.md).
var partB = []Mutant{
	{
		Name: "commit-few-acks", Part: "B", Breaks: "§9.1: committing with fewer than f PREPAREOKs",
		Edits: []Edit{edit(normal, "		k = kthLargest(acks, r.quorum-1)\n", "		k = kthLargest(append(acks, r.opNumber), r.quorum-1)\n")},
		Tests: []string{"TestFailNoAgreeB", "TestSimSweepB"},
	},
	{
		Name: "ack-count-twice", Part: "B", Breaks: "§9.1: one backup's PREPAREOK counted for two",
		Edits: []Edit{edit(normal, "		r.acked[m.From] = m.OpNumber\n", "		r.acked[m.From] = m.OpNumber\n		r.acked[r.config[(m.From+1)%len(r.config)]] = max(r.acked[r.config[(m.From+1)%len(r.config)]], m.OpNumber)\n")},
		Tests: []string{"TestFailNoAgreeB", "TestSimSweepB"},
	},
	{
		Name: "log-by-length", Part: "B", Breaks: "§9.2: choosing the view-change log by length alone",
		Edits: []Edit{edit(viewchange, "		if best == nil || d.LastNormalView > best.LastNormalView ||\n			(d.LastNormalView == best.LastNormalView && d.OpNumber > best.OpNumber) {",
			"		if best == nil || d.OpNumber > best.OpNumber {")},
		Tests: []string{"TestLogChoiceByViewB"},
	},
	{
		Name: "adopt-view-early", Part: "B", Breaks: "§9.4: adopting the newer view before state transfer finished",
		Edits: []Edit{edit(statetransfer, "	r.stateTransferView = v\n", "	r.stateTransferView = v\n	r.truncateLog(r.committedPoint())\n	r.view, r.lastNormalView = v, v\n")},
		Tests: []string{"TestLaggingReplicaNewerViewB", "TestSimSweepB"},
	},
	{
		Name: "no-rebuild-pending", Part: "B", Breaks: "§9.7: client-table not rebuilt after a view change",
		Edits: []Edit{edit(clienttable, "	r.clients.pending = map[int64]int{}\n	for op := r.executed + 1; op <= r.opNumber; op++ {\n		e := r.entry(op)\n		r.clients.pending[e.ClientID] = e.RequestNum\n	}\n", "")},
		Tests: []string{"TestDroppedOpRetriedB"},
	},
	{
		Name: "execute-uncommitted", Part: "B", Breaks: "§9.8: a backup executing an uncommitted op",
		Edits: []Edit{edit(normal, "	r.learnCommit(m.CommitNumber, m.From)\n	//lab:end\n}\n\n// onPrepareOK", "	r.learnCommit(m.CommitNumber, m.From)\n	r.learnCommit(r.opNumber, m.From)\n	//lab:end\n}\n\n// onPrepareOK")},
		Tests: []string{"TestDivergentLogsB", "TestSimSweepB"},
	},
	{
		Name: "old-view-prepareok", Part: "B", Breaks: "§9.9: the primary counting PREPAREOKs of an older view",
		Edits: []Edit{edit(normal, "	if r.status != Normal || m.View != r.view || !r.isPrimary() {", "	if r.status != Normal || m.View > r.view || !r.isPrimary() {")},
		Tests: []string{"TestSimSweepB"},
	},
	{
		Name: "old-view-prepare", Part: "B", Breaks: "§9.9: a backup accepting PREPAREs of an older view",
		Edits: []Edit{edit(normal, "func (r *Replica) fromCurrentPrimary(m Message) bool {\n",
			"func (r *Replica) fromCurrentPrimary(m Message) bool {\n	if m.View < r.view && r.status == Normal && m.From == r.primaryOf(m.View) && !r.isPrimary() {\n		return true\n	}\n")},
		Tests: []string{"TestSimSweepB"},
	},
	{
		Name: "cut-log-at-state-transfer", Part: "B", Breaks: "§9.13: cutting the log when state transfer starts",
		Edits: []Edit{edit(statetransfer, "	r.stateTransferView = v\n", "	r.stateTransferView = v\n	r.truncateLog(r.committedPoint())\n")},
		Tests: []string{"TestSimSweepB"},
	},
}
