package main

// Part A: view change (LAB-A.md).
var partA = []Mutant{
	{
		Name: "count-own-svc", Part: "A", Breaks: "§9.3; LAB-A: counting your own STARTVIEWCHANGE",
		Edits: []Edit{
			edit(viewchange, "	if r.doViewChangeSent || countOthers(r, r.startViewChanges) < r.quorum-1 {",
				"	if r.doViewChangeSent || countOthers(r, r.startViewChanges)+1 < r.quorum-1 {"),
			edit(viewchange, "	r.broadcast(Message{Type: MsgStartViewChange, View: v, CommitNumber: r.committedPoint()})\n",
				"	r.broadcast(Message{Type: MsgStartViewChange, View: v, CommitNumber: r.committedPoint()})\n	r.maybeSendDoViewChange()\n"),
		},
		Tests: []string{"TestOwnStartViewChangeA", "TestSimSweepA", "TestSearchOwnStartViewChangeA"},
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
		r.broadcast(Message{Type: MsgStartViewChange, View: r.view, CommitNumber: r.committedPoint()})
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
			r.send(m.From, r.startViewMessage(m.From))
		}
`, "")},
		Tests: []string{"TestLateStartViewChangeA"},
	},
	{
		Name: "dvc-to-self", Part: "A", Breaks: "LAB-A: sending to yourself (the new primary's own DOVIEWCHANGE)",
		Edits: []Edit{edit(viewchange, "	if p := r.primaryOf(r.view); p != r.id {\n		r.trimDoViewChange(&m)\n		r.send(p, m)\n		return\n	}\n",
			"	if p := r.primaryOf(r.view); true {\n		r.trimDoViewChange(&m)\n		r.send(p, m)\n		return\n	}\n")},
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
	{
		Name: "timer-by-hand", Part: "A", Breaks: "LAB-A: drawing the timeout yourself (fixed, no backoff) instead of resetViewChangeTimer",
		Edits: []Edit{edit(viewchange, "	r.resetViewChangeTimer()\n	r.broadcast(Message{Type: MsgStartViewChange, View: v, CommitNumber: r.committedPoint()})",
			"	r.silentTicks, r.resendTicks, r.viewChangeTimeout = 0, 0, r.opts.ViewChangeTicks\n	r.broadcast(Message{Type: MsgStartViewChange, View: v, CommitNumber: r.committedPoint()})")},
		Tests: []string{"TestNoQuorumA"},
	},
	{
		Name: "heartbeat-every-tick", Part: "A", Breaks: "LAB-A: heartbeats on every tick",
		Edits: []Edit{edit(normal, "	if r.idleTicks < r.opts.HeartbeatTicks && r.commitSent >= r.commitNumber {\n		return\n	}\n", "")},
		Tests: []string{"TestMessageBudgetA"},
	},
}
