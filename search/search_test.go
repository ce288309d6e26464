package search

import (
	"strings"
	"testing"
)

// TestViewChangeGoal: three replicas reach a new view, and the trace of the
// goal replays.
func TestViewChangeGoal(t *testing.T) {
	res := Run(Config{Replicas: 3, Budget: Budget{Ticks: 2}, Goal: AllNormal(1, 0), GoalName: "all normal in view 1", MaxDepth: 12})
	if res.Failure != nil {
		t.Fatalf("%s", res.Failure.Report(""))
	}
	t.Logf("%d states, depth %d, %.0f states/s, goal in %d moves: %s", res.States, res.Depth, res.StatesPerSecond(), len(res.GoalMoves), strings.Join(res.GoalMoves, "; "))
	trace, f := Replay(Config{Replicas: 3}, res.GoalMoves)
	if f != nil {
		t.Fatalf("replay of the goal's moves failed: %v\n%s", f, strings.Join(trace, "\n"))
	}
	t.Logf("\n%s", strings.Join(trace, "\n"))
}
