package main

import "slices"

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
	reconfig      = "vr/reconfig.go"
	lease         = "vr/lease.go"
)

var catalogue = slices.Concat(partA, partB, partC, partD, partKV, partSC, partE, partF)
