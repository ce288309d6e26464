package main

// The catalogue: every item of VR-PROTOCOL.md §9 and every "usual mistake"
// that a handout names, as a seeded bug, with the graded tests that catch it.
// Keep the snippets short but unique; when the code they quote changes, the
// tool reports the mutant as stale and fails.

const (
	viewchange    = "vr/viewchange.go"
	normal        = "vr/normal.go"
	statetransfer = "vr/statetransfer.go"
	recovery      = "vr/recovery.go"
	checkpoint    = "vr/checkpoint.go"
	clienttable   = "vr/clienttable.go"
	replica       = "vr/replica.go"
)

var catalogue = []Mutant{
	// ---- Part A: view change ----
	{
		Name: "count-own-svc", Part: "A", Breaks: "§9.3; LAB-A: counting your own STARTVIEWCHANGE",
		Edits: []Edit{
			edit(viewchange, "	if r.doViewChangeSent || countOthers(r, r.startViewChanges) < r.quorum-1 {",
				"	if r.doViewChangeSent || countOthers(r, r.startViewChanges)+1 < r.quorum-1 {"),
			edit(viewchange, "	r.broadcast(Message{Type: MsgStartViewChange, View: v})\n",
				"	r.broadcast(Message{Type: MsgStartViewChange, View: v})\n	r.maybeSendDoViewChange()\n"),
		},
		Tests: []string{"TestOwnStartViewChangeA", "TestSimSweepA"},
	},
	{
		Name: "svc-counter", Part: "A", Breaks: "LAB-A: counters instead of slots (a resent STARTVIEWCHANGE counted twice)",
		Edits: []Edit{
			edit(replica, "	doViewChangeSent bool\n", "	doViewChangeSent bool\n	svcCount         int\n"),
			edit(viewchange, "	clear(r.startViewChanges)\n", "	clear(r.startViewChanges)\n	r.svcCount = 0\n"),
			edit(viewchange, "	r.startViewChanges[m.From] = true\n", "	r.startViewChanges[m.From] = true\n	r.svcCount++\n"),
			edit(viewchange, "countOthers(r, r.startViewChanges) < r.quorum-1", "r.svcCount < r.quorum-1"),
		},
		Tests: []string{"TestOwnStartViewChangeA", "TestSimSweepA"},
	},
	{
		Name: "votes-not-cleared", Part: "A", Breaks: "LAB-A: not clearing the votes when the view changes",
		Edits: []Edit{edit(viewchange, "	clear(r.startViewChanges)\n	clear(r.doViewChanges)\n", "")},
		Tests: []string{"TestSimSweepA"},
	},
	{
		Name: "no-timer-reset-on-commit", Part: "A", Breaks: "LAB-A: not resetting the timer on a heartbeat",
		Edits: []Edit{edit(normal, "	r.silentTicks = 0 // the primary is alive\n", "")},
		Tests: []string{"TestInitialViewA"},
	},
	{
		Name: "timer-reset-old-commit", Part: "A", Breaks: "LAB-A: resetting the timer on a COMMIT of an old view's primary",
		Edits: []Edit{edit(normal, "func (r *Replica) onCommit(m Message) {\n", "func (r *Replica) onCommit(m Message) {\n	r.silentTicks = 0\n")},
		Tests: []string{"TestManyViewChangesA", "TestUnreliableViewChangeA"},
	},
	{
		Name: "timer-reset-on-svc", Part: "A", Breaks: "LAB-A: resetting the timer on a STARTVIEWCHANGE for the view being changed to",
		Edits: []Edit{edit(viewchange, "	r.startViewChanges[m.From] = true\n", "	r.startViewChanges[m.From] = true\n	r.silentTicks = 0\n")},
		Tests: []string{"TestNewPrimaryFailsA"},
	},
	{
		Name: "no-resend-svc", Part: "A", Breaks: "§9.10; LAB-A: not resending",
		Edits: []Edit{edit(viewchange, `	if r.resendTicks >= r.opts.HeartbeatTicks {
		r.resendTicks = 0
		r.broadcast(Message{Type: MsgStartViewChange, View: r.view})
		if r.doViewChangeSent && r.primaryOf(r.view) != r.id {
			r.sendDoViewChange()
		}
	}
`, "")},
		Tests: []string{"TestStartViewChangeLostA", "TestSimSweepA"},
	},
	{
		Name: "resend-every-tick", Part: "A", Breaks: "LAB-A: resending on every tick instead of every heartbeat interval",
		Edits: []Edit{edit(viewchange, "	if r.resendTicks >= r.opts.HeartbeatTicks {\n		r.resendTicks = 0\n		r.broadcast(Message{Type: MsgStartViewChange",
			"	if r.resendTicks >= 1 {\n		r.resendTicks = 0\n		r.broadcast(Message{Type: MsgStartViewChange")},
		Tests: []string{"TestNoQuorumA"},
	},
	{
		Name: "no-backoff", Part: "A", Breaks: "LAB-A: the view-change timeout never grows (failedViewChanges not counted)",
		Edits: []Edit{edit(viewchange, "		r.failedViewChanges++\n", "")},
		Tests: []string{"TestNoQuorumA"},
	},
	{
		Name: "ignore-late-svc", Part: "A", Breaks: "LAB-A: a primary that ignores a late STARTVIEWCHANGE",
		Edits: []Edit{edit(viewchange, `		if r.isPrimary() {
			r.send(m.From, r.startViewMessage())
		}
`, "")},
		Tests: []string{"TestLateStartViewChangeA"},
	},
	{
		Name: "dvc-to-self", Part: "A", Breaks: "LAB-A: sending to yourself (the new primary's own DOVIEWCHANGE)",
		Edits: []Edit{edit(viewchange, "	if p := r.primaryOf(r.view); p != r.id {\n		r.send(p, m)\n		return\n	}\n",
			"	if p := r.primaryOf(r.view); true {\n		r.send(p, m)\n		return\n	}\n")},
		Tests: []string{"TestPrimaryFailureA"},
	},
	{
		Name: "normal-by-hand", Part: "A", Breaks: "LAB-A: becoming normal by hand instead of enterNormal",
		Edits: []Edit{edit(viewchange, "	r.view = m.View\n	r.enterNormal()\n", "	r.view = m.View\n	r.status = Normal\n")},
		Tests: []string{"TestPrimaryFailureA"},
	},
	{
		Name: "old-view-svc-joined", Part: "A", Breaks: "§9.9 (views): a STARTVIEWCHANGE of an older view taken for this one",
		Edits: []Edit{edit(viewchange, "	if m.View < r.view {\n		return false\n	}\n	if m.View > r.view {", "	if m.View > r.view {")},
		Tests: []string{"TestSimSweepA"},
	},

	// ---- Part B: the log and normal operation ----
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

	// ---- Part C: recovery ----
	{
		Name: "recovering-votes", Part: "C", Breaks: "§9.5: a recovering replica voting or acknowledging",
		Edits: []Edit{edit(replica, "	if r.status == Recovering && m.Type != MsgRecoveryResponse {\n		return nil // a recovering replica takes part in nothing (§4 [fix])\n	}\n", "")},
		Tests: []string{"TestSimSweepC"},
	},
	{
		Name: "recovery-any-primary", Part: "C", Breaks: "§9.6: recovery completing without the latest primary's response",
		Edits: []Edit{edit(recovery, "	if primary == nil || primary.View != view || r.primaryOf(view) == r.id {", "	if primary == nil || r.primaryOf(view) == r.id {")},
		Tests: []string{"TestRecoveryLatestPrimaryC"},
	},

	// ---- Part D: checkpoints ----
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
