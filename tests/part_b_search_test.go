package tests

// Part B search tests: every schedule of a small group, up to a bound (see
// LAB-B.md, "Search tests").

import (
	"testing"

	"vrlab/search"
	"vrlab/vr"
)

// TestSearchCommitB: one client sends one request to three replicas. In
// every schedule with one lost message and one duplicate, an op commits
// only with PREPAREOKs from f backups, committed ops agree, the client's
// reply is its op's result; and in some schedule every replica executes it.
func TestSearchCommitB(t *testing.T) {
	runSearch(t, "Test (B): search: commit", search.Config{
		Replicas: 3, Clients: 1, Requests: 1,
		Budget:   search.Budget{Ticks: 1, Drops: 1, Dups: 1},
		Goal:     search.AllNormal(0, 1), GoalName: "every replica has executed op 1",
		MaxDepth: 8,
	})
}

// stPrefix is a prefix: R1 becomes primary of view 1 with R2; R0, the old
// primary, misses the STARTVIEW, and R2 is still in view-change.
var stPrefix = []string{
	"tick R1",
	"deliver STARTVIEWCHANGE 1→2 v1 n0 k0",
	"deliver STARTVIEWCHANGE 2→1 v1 n0 k0",
	"deliver DOVIEWCHANGE 2→1 v1 n0 k0 v'0",
	"drop STARTVIEW 1→0 v1 n0 k0",
}

// TestSearchStateTransferB: after stPrefix, R0 can enter view 1 only by state
// transfer, from a replica normal in view 1. Some schedule gets it there; in
// none does a replica that is not normal in view 1 answer its GETSTATE.
func TestSearchStateTransferB(t *testing.T) {
	runSearch(t, "Test (B): search: state transfer", search.Config{
		Replicas: 3,
		Prefix:   stPrefix,
		Budget:   search.Budget{Ticks: 3, Drops: 1},
		Goal: func(s *search.State) bool {
			st := s.Replica(0)
			return st.Status == vr.Normal && st.View == 1
		},
		GoalName: "R0 is normal in view 1",
		MaxDepth: 7,
	})
}
