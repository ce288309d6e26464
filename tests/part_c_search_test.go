package tests

// Part C search tests: every schedule of a small group, up to a bound (see
// LAB-C.md, "Search tests").

import (
	"testing"

	"vrlab/search"
	"vrlab/vr"
)

// commitPrefix: a client's request commits at the primary R0 of view 0
// (R1's PREPAREOK); the backups do not know it is committed yet.
var commitPrefix = []string{
	"invoke c0",
	"deliver REQUEST c0→0 s1",
	"deliver PREPARE 0→1 v0 n1 k0 log(0..1]",
	"deliver PREPARE 0→2 v0 n1 k0 log(0..1]",
	"deliver PREPAREOK 1→0 v0 n1 k0",
}

// TestSearchRecoveryC: after commitPrefix, in every schedule where one
// replica crashes and restarts (with one timer firing and one lost
// message), a recovering replica takes part in nothing, and committed ops
// survive; in some schedule a restarted replica recovers with op 1.
func TestSearchRecoveryC(t *testing.T) {
	runSearch(t, "Test (C): search: recovery", search.Config{
		Replicas: 3, Clients: 1, Requests: 1,
		Prefix: commitPrefix,
		Budget: search.Budget{Crashes: 1, Ticks: 1, Drops: 1},
		Goal: func(s *search.State) bool {
			for i := 0; i < s.N(); i++ {
				if st := s.Replica(i); s.Life(i) > 0 && st.Status == vr.Normal && st.Executed >= 1 {
					return true
				}
			}
			return false
		},
		GoalName: "a restarted replica is normal again with op 1 executed",
		MaxDepth: 6,
	})
}

// rvcPrefix: R1 starts a view change to view 1 (it will be its primary); R2
// crashes and restarts, asking everyone for state; R0 joins the view change,
// and R1 has sent its own DOVIEWCHANGE but not yet received R0's.
var rvcPrefix = []string{
	"tick R1",
	"crash R2",
	"deliver STARTVIEWCHANGE 1→0 v1 n0 k0",
	"deliver STARTVIEWCHANGE 0→1 v1 n0 k0",
}

// TestSearchRecoveryDuringViewChangeC: after rvcPrefix, only replicas that
// are normal answer R2's RECOVERY (R1, about to be primary of view 1, must
// not answer with the log it has before the view starts); and in some
// schedule R2 recovers, into view 1.
func TestSearchRecoveryDuringViewChangeC(t *testing.T) {
	runSearch(t, "Test (C): search: recovery during view change", search.Config{
		Replicas: 3,
		Prefix:   rvcPrefix,
		Budget:   search.Budget{Ticks: 2, Drops: 1},
		Goal: func(s *search.State) bool {
			st := s.Replica(2)
			return st.Status == vr.Normal && st.View >= 1
		},
		GoalName: "R2 (restarted) is normal in view ≥ 1",
		MaxDepth: 7,
	})
}
