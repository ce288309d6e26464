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
		Budget: search.Budget{Ticks: 1, Drops: 1, Dups: 1},
		Goal:   search.AllNormal(0, 1), GoalName: "every replica has executed op 1",
		MaxDepth: 8,
	})
}

// stPrefix is a prefix: R1 becomes primary of view 1 with R2; R0, the old
// primary, misses every message of the view change, and R2 is still in
// view-change (its STARTVIEW in flight).
var stPrefix = []string{
	"tick R1",
	"deliver STARTVIEWCHANGE 1→2 v1 n0 k0",
	"deliver STARTVIEWCHANGE 2→1 v1 n0 k0",
	"deliver DOVIEWCHANGE 2→1 v1 n0 k0 v'0",
	"drop STARTVIEW 1→0 v1 n0 k0",
	"drop STARTVIEWCHANGE 1→0 v1 n0 k0",
	"drop STARTVIEWCHANGE 2→0 v1 n0 k0",
}

// TestSearchStateTransferB: after stPrefix, with R2's timer stopped (so it
// cannot draw R0 into a view change), R0 can enter view 1 only by state
// transfer, when R1's heartbeat shows it the newer view. Some schedule gets
// it there; in none does a replica that is not normal in view 1 (R2, still
// in view-change) answer its GETSTATE.
func TestSearchStateTransferB(t *testing.T) {
	runSearch(t, "Test (B): search: state transfer", search.Config{
		Replicas: 3,
		Prefix:   stPrefix,
		Frozen:   []int{2},
		Budget:   search.Budget{Ticks: 4, Drops: 1, Dups: 1},
		Goal: func(s *search.State) bool {
			st := s.Replica(0)
			return st.Status == vr.Normal && st.View == 1
		},
		GoalName: "R0 is normal in view 1",
		MaxDepth: 9,
	})
}

// keepLogPrefix is VR-PROTOCOL.md §6's schedule, for five replicas: op 1
// commits in view 0 at R0 with R1 and R2; view 1 starts at R1 with R3 and R4
// (op 1 in its log, not known committed), and every STARTVIEW is lost; R2
// hears of view 1 from R1's PREPARE and starts state transfer; then R0 and
// R1 go silent, and R3 starts a view change to view 2, which R2 and R4 join.
var keepLogPrefix = []string{
	"invoke c0",
	"deliver REQUEST c0→0 s1",
	"deliver PREPARE 0→1 v0 n1 k0 log(0..1]",
	"deliver PREPARE 0→2 v0 n1 k0 log(0..1]",
	"drop PREPARE 0→3 v0 n1 k0 log(0..1]",
	"drop PREPARE 0→4 v0 n1 k0 log(0..1]",
	"deliver PREPAREOK 1→0 v0 n1 k0",
	"deliver PREPAREOK 2→0 v0 n1 k0",
	"tick R1",
	"deliver STARTVIEWCHANGE 1→3 v1 n0 k0",
	"deliver STARTVIEWCHANGE 1→4 v1 n0 k0",
	"deliver STARTVIEWCHANGE 3→4 v1 n0 k0",
	"deliver STARTVIEWCHANGE 4→3 v1 n0 k0",
	"deliver STARTVIEWCHANGE 3→1 v1 n0 k0",
	"deliver STARTVIEWCHANGE 4→1 v1 n0 k0",
	"deliver DOVIEWCHANGE 3→1 v1 n0 k0 v'0",
	"deliver DOVIEWCHANGE 4→1 v1 n0 k0 v'0",
	"drop STARTVIEW 1→3 v1 n1 k0 log(0..1]",
	"drop STARTVIEW 1→4 v1 n1 k0 log(0..1]",
	"drop STARTVIEW 1→2 v1 n1 k0 log(0..1]",
	"drop STARTVIEW 1→0 v1 n1 k0 log(0..1]",
	"tick R1",
	"deliver PREPARE 1→2 v1 n1 k0 log(0..1]",
	"tick R3",
	"tick R3",
	"tick R3",
	"deliver STARTVIEWCHANGE 3→2 v2 n0 k0",
	"deliver STARTVIEWCHANGE 3→4 v2 n0 k0",
	"deliver STARTVIEWCHANGE 4→2 v2 n0 k0",
	"deliver STARTVIEWCHANGE 2→3 v2 n0 k0",
	"deliver STARTVIEWCHANGE 4→3 v2 n0 k0",
}

// TestSearchStateTransferKeepsLogB: after keepLogPrefix, view 2 forms from
// R2, R3 and R4. R2 must still hold op 1, which only it of the three has:
// in every schedule the new primary holds every op committed in an earlier
// view, and in some R2 becomes primary of view 2 with op 1. (A replica that
// cuts its log when state transfer starts loses op 1.)
func TestSearchStateTransferKeepsLogB(t *testing.T) {
	runSearch(t, "Test (B): search: state transfer keeps the log", search.Config{
		Replicas: 5, Clients: 1, Requests: 1,
		Prefix: keepLogPrefix,
		Silent: []int{0, 1},
		Budget: search.Budget{Ticks: 1, Drops: 1},
		Goal: func(s *search.State) bool {
			st := s.Replica(2)
			return st.IsPrimary && st.View == 2 && st.OpNumber >= 1
		},
		GoalName: "R2 is primary of view 2 with op 1 in its log",
		MaxDepth: 4,
	})
}
