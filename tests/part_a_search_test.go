package tests

// Part A search tests: every schedule of a small group, up to a bound (see
// LAB-A.md, "Search tests").

import (
	"testing"

	"vrlab/search"
	"vrlab/vr"
)

// TestSearchViewChangeA: in every schedule of three replicas with up to two
// timer firings, there is at most one primary per view and every
// STARTVIEWCHANGE/DOVIEWCHANGE rule holds; and some schedule completes a view
// change (every replica normal in view 1 or later).
func TestSearchViewChangeA(t *testing.T) {
	runSearch(t, "Test (A): search: view change", search.Config{
		Replicas: 3,
		Budget:   search.Budget{Ticks: 2},
		Goal:     search.AllNormal(1, 0), GoalName: "every replica is normal in one view ≥ 1",
		MaxDepth: 9,
	})
}

// TestSearchPrimarySilentA: the primary of view 0 goes silent (it never
// ticks or hears anything again). With up to three timer firings and one
// lost message, the other two still reach a new view, and nothing unsafe
// happens on the way.
func TestSearchPrimarySilentA(t *testing.T) {
	runSearch(t, "Test (A): search: primary silent", search.Config{
		Replicas: 3,
		Silent:   []int{0},
		Budget:   search.Budget{Ticks: 3, Drops: 1},
		Goal: func(s *search.State) bool {
			a, b := s.Replica(1), s.Replica(2)
			return a.Status == vr.Normal && b.Status == vr.Normal && a.View == b.View && a.View >= 1
		},
		GoalName: "R1 and R2 are normal in one view ≥ 1",
		MaxDepth: 9,
	})
}

// TestSearchOwnStartViewChangeA: five replicas, so f = 2. R1 starts a view
// change to view 1 and R2 and R3 hear of it (the prefix). Each now has one
// STARTVIEWCHANGE from another replica, and its own: not enough for a
// DOVIEWCHANGE, since its own does not count. In every schedule from there
// no replica sends DOVIEWCHANGE before f others want the view, and in some
// R1 becomes primary of view 1.
func TestSearchOwnStartViewChangeA(t *testing.T) {
	runSearch(t, "Test (A): search: own STARTVIEWCHANGE", search.Config{
		Replicas: 5,
		Prefix: []string{
			"tick R1",
			"deliver STARTVIEWCHANGE 1→2 v1 n0 k0",
			"deliver STARTVIEWCHANGE 1→3 v1 n0 k0",
		},
		Goal: func(s *search.State) bool {
			st := s.Replica(1)
			return st.IsPrimary && st.View == 1
		},
		GoalName: "R1 is primary of view 1",
		MaxDepth: 6,
	})
}
