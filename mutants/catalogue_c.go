package main

// Part C: recovery (LAB-C.md).
var partC = []Mutant{
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
}
