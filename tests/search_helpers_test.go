package tests

// Helpers of the graded search tests (part_*_search_test.go): run a search,
// print the MIT-style summary line, and on failure print the shortest trace
// and the command that replays it.

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"vrlab/search"
)

var (
	searchReplay = flag.String("search.replay", "", "search tests: instead of searching, replay these moves (separated by ';') after the test's prefix and print the trace")
	searchDepth  = flag.Int("search.depth", 0, "search tests: search this many levels deeper than graded (ungraded; for measuring)")
)

// runSearch runs cfg as test t titled title ("Test (A): search: view
// change"), or replays -search.replay instead.
func runSearch(t *testing.T, title string, cfg search.Config) *search.Result {
	t.Helper()
	replayCmd := func(moves []string) string {
		return fmt.Sprintf("go test -v ./tests -run '^%s$' -search.replay '%s'", t.Name(), strings.Join(moves[len(cfg.Prefix):], "; "))
	}
	if *searchReplay != "" {
		trace, f := search.Replay(cfg, search.ParseMoves(*searchReplay))
		fmt.Printf("replay of %s (the prefix, then -search.replay):\n%s\n", t.Name(), strings.Join(trace, "\n"))
		if f != nil {
			t.Fatalf("replay failed: %s: %s", f.Check, f.Msg)
		}
		return nil
	}
	if *searchDepth > 0 && cfg.MaxDepth > 0 {
		cfg.MaxDepth += *searchDepth
		cfg.MaxStates, cfg.MaxTime = 0, 0
	}
	res := search.Run(cfg)
	verdict := "Passed"
	if res.Failure != nil {
		verdict = "FAILED"
		replay := ""
		if len(res.Failure.Moves) > len(cfg.Prefix) {
			replay = replayCmd(res.Failure.Moves)
		}
		t.Errorf("%s", res.Failure.Report(replay))
	}
	fmt.Printf("%s ... %s -- %4.1fs %d peers %d states %d moves %.0f states/s depth %d\n",
		title, verdict, res.Elapsed.Seconds(), cfg.Replicas, res.States, res.Moves, res.StatesPerSecond(), res.Depth)
	return res
}
