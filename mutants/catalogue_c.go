package main

// Part C: recovery (LAB-C.md).
var partC = []Mutant{
	{
		Name: "recovering-votes", Part: "C", Breaks: "§9.5; LAB-C: taking part while recovering",
		Edits: []Edit{edit(replica, "	if r.status == Recovering && m.Type != MsgRecoveryResponse && m.Type != MsgNewEpoch {\n		return nil // a recovering replica takes part in nothing (§4 [fix])\n	}\n", "")},
		Tests: []string{"TestRecoveringNoQuorumC", "TestSimSweepC"},
	},
	{
		Name: "recovery-any-primary", Part: "C", Breaks: "§9.6; LAB-C: taking an older view's primary",
		Edits: []Edit{edit(recovery, "	if primary == nil || primary.View != view || r.primaryOf(view) == r.id {", "	if primary == nil || r.primaryOf(view) == r.id {")},
		Tests: []string{"TestRecoveryLatestPrimaryC"},
	},
	{
		Name: "recovery-stale-nonce", Part: "C", Breaks: "LAB-C: taking answers with a stale nonce",
		Edits: []Edit{edit(recovery, "	if r.status != Recovering || m.Nonce != r.nonce {", "	if r.status != Recovering {")},
		Tests: []string{"TestRecoveryStaleAnswersC"},
	},
	{
		Name: "recovery-same-nonce", Part: "C", Breaks: "LAB-C: the same nonce in every life",
		Edits: []Edit{
			edit(recovery, "	r.nonce = r.rand.Uint64()\n", "	r.nonce = uint64(r.id) + 1\n"),
		},
		Tests: []string{"TestRecoveryStaleAnswersC"},
	},
	{
		Name: "recovery-nonce-per-resend", Part: "C", Breaks: "LAB-C: a new nonce on every resend",
		Edits: []Edit{edit(recovery, "		r.resendTicks = 0\n		r.broadcastAll(Message{Type: MsgRecovery, Nonce: r.nonce})\n",
			"		r.resendTicks = 0\n		r.nonce = r.rand.Uint64()\n		clear(r.recoveryResponses)\n		r.broadcastAll(Message{Type: MsgRecovery, Nonce: r.nonce})\n")},
		Tests: []string{"TestRecoveryAcrossResendsC", "TestSimSweepC"},
	},
	{
		Name: "recovery-adopt-last-answer", Part: "C", Breaks: "LAB-C: adopting a backup's empty answer",
		Edits: []Edit{edit(recovery, "	primary := r.recoveryResponses[r.primaryOf(view)]\n", "	primary := r.recoveryResponses[m.From]\n")},
		Tests: []string{"TestRecoveryAcrossResendsC", "TestSimSweepC"},
	},
	{
		Name: "recovery-primary-by-entries", Part: "C", Breaks: "LAB-C: adopting a backup's empty answer (finding the primary's by its entries)",
		Edits: []Edit{edit(recovery, "	primary := r.recoveryResponses[r.primaryOf(view)]\n",
			"	var primary *Message\n	for _, resp := range r.recoveryResponses {\n		if resp != nil && len(resp.Entries) > 0 {\n			primary = resp\n		}\n	}\n")},
		Tests: []string{"TestRecoveryAcrossResendsC"},
	},
	{
		Name: "recovery-count-self", Part: "C", Breaks: "LAB-C: counting yourself",
		Edits: []Edit{edit(recovery, "	if countOthers(r, r.recoveryResponses) < r.quorum {", "	if countOthers(r, r.recoveryResponses)+1 < r.quorum {")},
		Tests: []string{"TestSimSweepC"},
	},
	{
		Name: "recovery-own-answer", Part: "C", Breaks: "LAB-C: adopting your own \"answer\"",
		Edits: []Edit{edit(recovery, "	primary := r.recoveryResponses[r.primaryOf(view)]\n	if primary == nil || primary.View != view || r.primaryOf(view) == r.id {",
			"	primary := r.recoveryResponses[r.primaryOf(view)]\n	if r.primaryOf(view) == r.id {\n		primary = &Message{From: r.id, View: view} // I am its primary: my own state\n	}\n	if primary == nil || primary.View != view {")},
		Tests: []string{"TestSimSweepC"},
	},
	{
		Name: "recovery-no-reexecute", Part: "C", Breaks: "LAB-C: forgetting to re-execute",
		Edits: []Edit{edit(recovery, "	r.enterNormal()\n	r.executeCommitted()\n", "	r.enterNormal()\n	r.executed = r.commitNumber\n")},
		Tests: []string{"TestBackupCrashRecoverC"},
	},
	{
		Name: "recovery-answer-in-viewchange", Part: "C", Breaks: "LAB-C: answering RECOVERY while in view-change",
		Edits: []Edit{edit(recovery, "	if r.status != Normal {\n		return\n	}\n	resp := Message{", "	if r.status == Recovering {\n		return\n	}\n	resp := Message{")},
		Tests: []string{"TestSimSweepC", "TestSearchRecoveryC", "TestSearchRecoveryDuringViewChangeC"},
	},
	{
		Name: "recovery-prepareok-max-op", Part: "C", Breaks: "LAB-C: a PREPAREOK you can't back (an op-number from another answer)",
		Edits: []Edit{edit(recovery, "	if r.opNumber > r.commitNumber {\n		r.send(primary.From, Message{Type: MsgPrepareOK, View: r.view, OpNumber: r.opNumber})\n	}\n",
			"	n := r.opNumber\n	for _, resp := range r.recoveryResponses {\n		if resp != nil {\n			n = max(n, resp.OpNumber)\n		}\n	}\n	if n > r.commitNumber {\n		r.send(primary.From, Message{Type: MsgPrepareOK, View: r.view, OpNumber: n})\n	}\n")},
		Tests: []string{"TestRecoveredAckC"},
	},
	{
		Name: "recovery-no-resend", Part: "C", Breaks: "LAB-C: not resending",
		Edits: []Edit{edit(recovery, "		r.resendTicks = 0\n		r.broadcastAll(Message{Type: MsgRecovery, Nonce: r.nonce})\n", "		r.resendTicks = 0\n")},
		Tests: []string{"TestRecoveryLatestPrimaryC", "TestRecoveryAcrossResendsC", "TestSimSweepC"},
	},
	{
		Name: "recovery-resend-every-tick", Part: "C", Breaks: "LAB-C: not resending (resending every tick instead)",
		Edits: []Edit{edit(recovery, "	r.resendTicks++\n	if r.resendTicks >= r.opts.HeartbeatTicks {\n		r.resendTicks = 0\n		r.broadcastAll(Message{Type: MsgRecovery",
			"	r.resendTicks++\n	if r.resendTicks >= 1 {\n		r.resendTicks = 0\n		r.broadcastAll(Message{Type: MsgRecovery")},
		Tests: []string{"TestRecoveryAcrossResendsC"},
	},
	{
		Name: "recovery-normal-by-hand", Part: "C", Breaks: "LAB-C: becoming normal by hand",
		Edits: []Edit{edit(recovery, "	r.view = view\n	r.commitNumber = max(r.commitNumber, min(primary.CommitNumber, r.opNumber))\n	r.enterNormal()\n",
			"	r.view = view\n	r.commitNumber = max(r.commitNumber, min(primary.CommitNumber, r.opNumber))\n	r.status = Normal\n")},
		Tests: []string{"TestPrimaryCrashRecoverC"},
	},
}
