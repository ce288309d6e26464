package main

// Part F: fast reads with leases (LAB-F.md).
var partF = []Mutant{
	{
		Name: "read-without-leases", Part: "F", Breaks: "§9.11: serving a fast read without f leases",
		Edits: []Edit{edit(lease, "		r.commitNumber >= r.viewStartOp && r.executed == r.commitNumber &&\n		r.leasesHeld() >= r.quorum-1 && !r.reconfigPending()\n",
			"		r.commitNumber >= r.viewStartOp && r.executed == r.commitNumber && !r.reconfigPending()\n")},
		Tests: []string{"TestReadFallbackF", "TestStalePartitionF", "TestSimSweepF"},
	},
	{
		Name: "read-f-minus-one", Part: "F", Breaks: "LAB-F: counting the primary among the f (f−1 grants)",
		Edits: []Edit{edit(lease, "		r.leasesHeld() >= r.quorum-1 && !r.reconfigPending()\n", "		r.leasesHeld() >= r.quorum-2 && !r.reconfigPending()\n")},
		Tests: []string{"TestReadFallbackF"},
	},
	{
		Name: "lease-too-long", Part: "F", Breaks: "§9.11: a lease outliving the view-change timeout (the validation removed)",
		Edits: []Edit{edit(lease, "	if o.LeaseTicks > 0 && o.LeaseTicks >= o.ViewChangeTicks {\n", "	if o.LeaseTicks > 0 && o.LeaseTicks > 4*o.ViewChangeTicks {\n")},
		Tests: []string{"TestLeaseTooLongF"},
	},
	{
		Name: "lease-no-margin", Part: "F", Breaks: "§9.11, LAB-F: honouring the whole lease (no margin for clock drift and rounding)",
		Edits: []Edit{edit(lease, "	until := m.SentAt + r.opts.LeaseTicks - leaseMargin(r.opts.LeaseTicks)\n", "	until := m.SentAt + r.opts.LeaseTicks\n")},
		Tests: []string{"TestSimSweepF"},
	},
	{
		Name: "lease-from-arrival", Part: "F", Breaks: "LAB-F: counting the lease from the grant's arrival instead of the send",
		Edits: []Edit{edit(lease, "	until := m.SentAt + r.opts.LeaseTicks - leaseMargin(r.opts.LeaseTicks)\n", "	until := r.now + r.opts.LeaseTicks - leaseMargin(r.opts.LeaseTicks)\n")},
		Tests: []string{"TestLeaseFromSendF", "TestSimSweepF"},
	},
	{
		Name: "no-promise", Part: "F", Breaks: "§9.11: a backup joining a view change while its grant is active",
		Edits: []Edit{edit(lease, "	return r.now < r.promiseUntil\n", "	return false\n")},
		Tests: []string{"TestPromiseF", "TestSimSweepF"},
	},
	{
		Name: "promise-own-timer-only", Part: "F", Breaks: "LAB-F: keeping the promise only when the backup's own timer fires",
		Edits: []Edit{
			edit(viewchange, "	if r.promised() {\n		return // Part F (lease.go): a lease this replica granted has not expired yet\n	}\n", ""),
			edit(normal, "	if r.silentTicks >= r.viewChangeTimeout {\n		if r.silentTicks == r.viewChangeTimeout {", "	if r.silentTicks >= r.viewChangeTimeout && !r.promised() {\n		if r.silentTicks == r.viewChangeTimeout {"),
		},
		Tests: []string{"TestPromiseF"},
	},
	{
		Name: "promise-primary-clock", Part: "F", Breaks: "LAB-F: measuring the promise on the primary's clock (from SentAt)",
		Edits: []Edit{edit(lease, "	r.promiseUntil = max(r.promiseUntil, r.now+r.opts.LeaseTicks)\n", "	r.promiseUntil = max(r.promiseUntil, m.SentAt+r.opts.LeaseTicks)\n")},
		Tests: []string{"TestPromiseF"},
	},
	{
		Name: "new-primary-reads-early", Part: "F", Breaks: "§9.11, LAB-F: a new primary reading before the log it inherited is committed",
		Edits: []Edit{edit(lease, "		r.commitNumber >= r.viewStartOp && r.executed == r.commitNumber &&\n", "		r.executed == r.commitNumber &&\n")},
		Tests: []string{"TestNewPrimaryFirstReadF"},
	},
	{
		Name: "no-heartbeat-grant", Part: "F", Breaks: "LAB-F: granting leases only with PREPAREOK (heartbeats unanswered)",
		Edits: []Edit{edit(lease, "	ok := Message{Type: MsgCommitOK, View: r.view}\n	r.grantLease(m, &ok)\n	r.send(m.From, ok)\n", "")},
		Tests: []string{"TestLeaseReadNoMessagesF", "TestHeartbeatAnswersF"},
	},
	{
		Name: "heartbeat-answer-leases-off", Part: "F", Breaks: "LAB-F: answering heartbeats with leases off",
		Edits: []Edit{edit(lease, "	if r.opts.LeaseTicks == 0 {\n		return\n	}\n	ok := Message{Type: MsgCommitOK", "	ok := Message{Type: MsgCommitOK")},
		Tests: []string{"TestHeartbeatAnswersF"},
	},
	{
		Name: "restart-forgets-promise", Part: "F", Breaks: "LAB-F: a restarted replica forgetting the promise it may have made before the crash",
		Edits: []Edit{edit(lease, "	if r.opts.Recovering {\n		r.promiseUntil = r.opts.LeaseTicks\n	}\n", "")},
		Tests: []string{"TestSimSweepF"},
	},
	{
		Name: "watchdog-still-grants", Part: "F", Breaks: "§3 [choice]: a backup whose commit watchdog fired still granting leases to a deaf primary",
		Edits: []Edit{edit(lease, "	if r.stalledTicks >= r.viewChangeTimeout {\n", "	if false && r.stalledTicks >= r.viewChangeTimeout {\n")},
		Tests: []string{"TestSimSweepF"},
	},
}
