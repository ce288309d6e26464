package search

import (
	"fmt"
	"strings"
	"testing"
)

// TestViewChangeGoal: three replicas reach a new view, and the goal's moves
// replay.
func TestViewChangeGoal(t *testing.T) {
	res := Run(Config{Replicas: 3, Budget: Budget{Ticks: 2}, Goal: AllNormal(1, 0), GoalName: "all normal in view 1", MaxDepth: 7})
	if res.Failure != nil {
		t.Fatalf("%s", res.Failure.Report(""))
	}
	if len(res.GoalMoves) != 6 {
		t.Errorf("expected the shortest view change to take 6 moves, got %d: %s", len(res.GoalMoves), strings.Join(res.GoalMoves, "; "))
	}
	trace, f := Replay(Config{Replicas: 3}, res.GoalMoves)
	if f != nil {
		t.Fatalf("replay of the goal's moves failed: %v\n%s", f, strings.Join(trace, "\n"))
	}
	t.Logf("%d states, %.0f states/s; goal:\n%s", res.States, res.StatesPerSecond(), strings.Join(trace, "\n"))
}

// TestFailureShortestAndReplays: an invariant that fails once some replica
// is in view 1 fails after the fewest moves (one tick), and its moves,
// replayed, fail the same way.
func TestFailureShortestAndReplays(t *testing.T) {
	cfg := Config{Replicas: 3, Budget: Budget{Ticks: 2}, MaxDepth: 5,
		Invariant: func(s *State) string {
			for i := 0; i < s.N(); i++ {
				if s.Replica(i).View >= 1 {
					return fmt.Sprintf("R%d reached view 1", i)
				}
			}
			return ""
		}}
	res := Run(cfg)
	f := res.Failure
	if f == nil || f.Check != "invariant" || len(f.Moves) != 1 || !strings.HasPrefix(f.Moves[0], "tick R") {
		t.Fatalf("expected an invariant failure after one tick, got %+v", f)
	}
	_, g := Replay(cfg, f.Moves)
	if g == nil || g.Msg != f.Msg {
		t.Fatalf("replaying %v: expected %q, got %+v", f.Moves, f.Msg, g)
	}
}

// TestBadPrefix: a prefix move that is not possible fails the search and
// says what is in flight.
func TestBadPrefix(t *testing.T) {
	res := Run(Config{Replicas: 3, Prefix: []string{"deliver PREPARE 0→1 v0 n1 k0 log(0..1]"}})
	if f := res.Failure; f == nil || f.Check != "prefix" || !strings.Contains(f.Msg, "no such message") {
		t.Fatalf("expected a prefix failure naming the missing message, got %+v", f)
	}
}
