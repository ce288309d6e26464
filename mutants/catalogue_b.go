package main

// Part B: the log and normal operation (LAB-B.md).
var partB = []Mutant{
	{
		Name: "commit-few-acks", Part: "B", Breaks: "§9.1: committing with fewer than f PREPAREOKs",
		Edits: []Edit{edit(normal, "		k = kthLargest(acks, r.quorum-1)\n", "		k = kthLargest(append(acks, r.opNumber), r.quorum-1)\n")},
		Tests: []string{"TestFailNoAgreeB", "TestSimSweepB", "TestSearchCommitB"},
	},
	{
		Name: "ack-count-twice", Part: "B", Breaks: "§9.1: one backup's PREPAREOK counted for two",
		Edits: []Edit{edit(normal, "		r.acked[m.From] = m.OpNumber\n", "		r.acked[m.From] = m.OpNumber\n		r.acked[r.config[(m.From+1)%len(r.config)]] = max(r.acked[r.config[(m.From+1)%len(r.config)]], m.OpNumber)\n")},
		Tests: []string{"TestDivergentLogsB", "TestSimSweepB"},
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
		Tests: []string{"TestKeepLogInStateTransferB", "TestSimSweepB", "TestSearchStateTransferKeepsLogB"},
	},
	{
		Name: "execute-on-append", Part: "B", Breaks: "LAB-B: executing at backups what isn't committed (executing when appending)",
		Edits: []Edit{edit(normal, "	r.extendLog(m.LogStart, m.Entries, nil)\n	ok := ", "	r.extendLog(m.LogStart, m.Entries, nil)\n	r.commitNumber = max(r.commitNumber, r.opNumber)\n	r.executeCommitted()\n	ok := ")},
		Tests: []string{"TestDivergentLogsB", "TestSimSweepB"},
	},
	{
		Name: "resend-reexecutes", Part: "B", Breaks: "LAB-B: replying from backups, or before executing (a resent reply that runs the op again: executing twice)",
		Edits: []Edit{edit(normal, "	rec := r.clients.executed[m.ClientID]\n", "	rec := r.clients.executed[m.ClientID]\n	rec.Result = r.sm.Apply(m.Op)\n")},
		Tests: []string{"TestDuplicateRequestsB", "TestSimSweepB"},
	},
	{
		Name: "execute-out-of-order", Part: "B", Breaks: "LAB-B: executing out of order (newly committed ops applied last first)",
		Edits: []Edit{edit(normal, "	for r.executed < r.commitNumber && r.executed < r.opNumber {\n		op := r.executed + 1\n		e := r.entry(op)\n		if e.Members != nil {\n			r.executeReconfiguration(op, e) // part E\n			continue\n		}\n		result := r.sm.Apply(e.Op)\n		r.executed = op\n",
			"	base, top := r.executed, min(r.commitNumber, r.opNumber)\n	for r.executed < top {\n		op := top - (r.executed - base)\n		e := r.entry(op)\n		result := r.sm.Apply(e.Op)\n		r.executed++\n")},
		Tests: []string{"TestBackupFailureB", "TestSimSweepB"},
	},
	{
		Name: "ack-counter", Part: "B", Breaks: "LAB-B: counting acknowledgements wrongly (a counter, not per sender)",
		Edits: []Edit{edit(normal, "	if m.OpNumber > r.acked[m.From] {\n		r.acked[m.From] = m.OpNumber\n	}\n",
			"	if m.OpNumber > r.commitNumber {\n		for _, b := range r.config {\n			if b != r.id && r.acked[b] < m.OpNumber {\n				r.acked[b] = m.OpNumber\n				break\n			}\n		}\n	}\n")},
		Tests: []string{"TestSimSweepB"},
	},
	{
		Name: "ack-per-op", Part: "B", Breaks: "LAB-B: counting acknowledgements wrongly (per op: a PREPAREOK for n not acknowledging the ops below n)",
		Edits: []Edit{edit(normal, "	if m.OpNumber > r.acked[m.From] {\n", "	if m.OpNumber == r.acked[m.From]+1 {\n")},
		Tests: []string{"TestUnreliableAgreeB", "TestSimSweepB"},
	},
	{
		Name: "prepare-whole-log", Part: "B", Breaks: "LAB-B: the whole log in every PREPARE",
		Edits: []Edit{edit(normal, "	r.broadcast(r.prepareAfter(from))\n", "	r.broadcast(r.prepareAfter(r.logStart))\n")},
		Tests: []string{"TestByteBudgetB"},
	},
	{
		Name: "prepare-on-tick", Part: "B", Breaks: "LAB-B: waiting for a tick (the PREPARE sent on the next tick)",
		Edits: []Edit{edit(normal, "	r.prepareBatch()  // sendPrepare(r.opNumber-1), batched: see batch.go\n", "")},
		Tests: []string{"TestSequentialSpeedB"},
	},
	{
		Name: "commit-on-tick", Part: "B", Breaks: "LAB-B: waiting for a tick (commit and reply on the next tick)",
		Edits: []Edit{edit(normal, "		r.acked[m.From] = m.OpNumber\n	}\n	r.advanceCommit()\n", "		r.acked[m.From] = m.OpNumber\n	}\n"),
			edit(normal, "	r.idleTicks++\n", "	r.idleTicks++\n	r.advanceCommit()\n")},
		Tests: []string{"TestSequentialSpeedB"},
	},
	{
		Name: "prepare-not-heartbeat", Part: "B", Breaks: "LAB-B: forgetting that PREPARE is a heartbeat",
		Edits: []Edit{edit(normal, "	//lab:begin B\n	r.silentTicks = 0\n	if m.LogStart > r.opNumber {", "	//lab:begin B\n	if m.LogStart > r.opNumber {")},
		Tests: []string{"TestPrepareIsHeartbeatB"},
	},
	{
		Name: "new-primary-no-execute", Part: "B", Breaks: "LAB-B: a new primary that doesn't execute",
		Edits: []Edit{edit(viewchange, "	r.commitSent = r.commitNumber\n	r.executeCommitted()\n", "	r.commitSent = r.commitNumber\n")},
		Tests: []string{"TestSimSweepB"},
	},
	{
		Name: "startview-no-prepareok", Part: "B", Breaks: "LAB-B: a new primary that doesn't execute (backups not acknowledging the new log on STARTVIEW)",
		Edits: []Edit{edit(viewchange, "		r.send(m.From, Message{Type: MsgPrepareOK, View: r.view, OpNumber: r.opNumber})\n", "")},
		Tests: []string{"TestStartViewAcksB"},
	},
	{
		Name: "getstate-once", Part: "B", Breaks: "LAB-B: a backup with a gap that asks once",
		Edits: []Edit{edit(statetransfer, "	if r.getStateSent && r.now-r.getStateAt < r.opts.HeartbeatTicks {", "	if r.getStateSent {")},
		Tests: []string{"TestUnreliableAgreeB", "TestSimSweepB"},
	},
	{
		Name: "ack-past-gap", Part: "B", Breaks: "LAB-B: acknowledging past a gap",
		Edits: []Edit{edit(normal, "		r.requestState(m.From)\n		r.learnCommit(m.CommitNumber, m.From)\n		return\n",
			"		r.requestState(m.From)\n		r.send(m.From, Message{Type: MsgPrepareOK, View: r.view, OpNumber: m.OpNumber})\n		r.learnCommit(m.CommitNumber, m.From)\n		return\n")},
		Tests: []string{"TestSimSweepB"},
	},
	{
		Name: "lnv-early", Part: "B", Breaks: "LAB-B: adopting the new view before NEWSTATE (last-normal-view only)",
		Edits: []Edit{edit(statetransfer, "	r.stateTransferView = v\n", "	r.stateTransferView = v\n	r.lastNormalView = v\n")},
		Tests: []string{"TestLaggingReplicaNewerViewB", "TestSimSweepB"},
	},
	{
		Name: "getstate-after-opnumber", Part: "B", Breaks: "LAB-B: asking for the wrong part of the log (after the op-number, and appending there)",
		Edits: []Edit{edit(statetransfer, "View: r.stateTransferView, OpNumber: r.committedPoint()})", "View: r.stateTransferView, OpNumber: r.opNumber})"),
			edit(statetransfer, "		if m.LogStart > r.committedPoint() && m.Checkpoint == nil {\n			return // cannot fill the gap; keep the log whole\n		}\n		// Now replace the uncommitted ops with the view's.\n		r.truncateLog(r.committedPoint())\n",
				"		if m.LogStart > r.opNumber && m.Checkpoint == nil {\n			return\n		}\n")},
		Tests: []string{"TestRejoinB", "TestSimSweepB"},
	},
	{
		Name: "getstate-not-normal", Part: "B", Breaks: "LAB-B: answering GETSTATE when not normal in that view",
		Edits: []Edit{edit(statetransfer, "	if r.status != Normal || r.view != m.View {\n		return\n	}\n	from := ", "	if r.view != m.View {\n		return\n	}\n	from := ")},
		Tests: []string{"TestGetStateOnlyWhenNormalB", "TestSearchStateTransferB"},
	},
	{
		Name: "state-transfer-no-timeout", Part: "B", Breaks: "LAB-B: waiting in StateTransfer forever (no timeout)",
		Edits: []Edit{edit(statetransfer, "	if r.silentTicks >= r.viewChangeTimeout {\n		r.startViewChange(max(r.view, r.stateTransferView) + 1)\n		return\n	}\n", "")},
		Tests: []string{"TestStateTransferTimeoutB"},
	},
	{
		Name: "no-idle-resend", Part: "B", Breaks: "LAB-B: forgetting the part A changes (heartbeat() in tickPrimary: no idle resend)",
		Edits: []Edit{edit(normal, "	if idle && r.acked[b] < r.opNumber {", "	if false && idle && r.acked[b] < r.opNumber {")},
		Tests: []string{"TestUnreliableAgreeB", "TestSimSweepB"},
	},
	{
		Name: "reply-before-execute", Part: "B", Breaks: "LAB-B: replying from backups, or before executing (reply at prepare time)",
		Edits: []Edit{edit(normal, "	r.clients.prepared(m.ClientID, m.RequestNum)\n", "	r.clients.prepared(m.ClientID, m.RequestNum)\n	r.reply(Message{Type: MsgReply, View: r.view, ClientID: m.ClientID, RequestNum: m.RequestNum, Result: nil})\n")},
		Tests: []string{"TestFailNoAgreeB"},
	},
	{
		Name: "no-commit-watchdog", Part: "B", Breaks: "LAB-B: a primary that hears no backup stays primary (one-way link failure)",
		Edits: []Edit{edit(normal, "	if r.stalledTicks >= r.viewChangeTimeout {\n", "	if false && r.stalledTicks >= r.viewChangeTimeout {\n")},
		Tests: []string{"TestOneWayPrimaryB", "TestSimSweepB"},
	},
	{
		Name: "watchdog-never-reset", Part: "B", Breaks: "LAB-B: the commit watchdog counting while commits still move",
		Edits: []Edit{edit(normal, "		r.stalledTicks = 0 // the primary hears enough backups to commit\n", "")},
		Tests: []string{"TestBusyNoViewChangeB"},
	},
}
