package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestDeafPrimaryStage: with Config.Failover and clients, the liveness
// phase's third stage cuts exactly the deaf primary's inbound links from
// the other replicas (its outbound links and every client's stay up),
// gives it a new write at once, and passes only after the others moved to
// a higher view; then its links heal. Without clients there is no such
// stage (an idle deaf primary rightly stays primary). Events and traces
// leave the run as it is.
func TestDeafPrimaryStage(t *testing.T) {
	for _, part := range []string{"A", "B", "E", "F"} {
		prepare, err := ForPart(part)
		if err != nil {
			t.Fatal(err)
		}
		seeds := []int64{1, 2, 3, 4}
		if raceEnabled {
			seeds = seeds[:2]
		}
		for _, seed := range seeds {
			cfg := Draw(seed)
			prepare(&cfg)
			var evs []Event
			res := Run(cfg, Options{Events: func(e Event) { evs = append(evs, e) }})
			if res.Failure != nil {
				t.Fatalf("part %s seed %d: %v", part, seed, res.Failure)
			}
			traced := Run(cfg, Options{Trace: func(string) {}})
			if plain := Run(cfg, Options{}); plain.TraceHash != res.TraceHash || traced.TraceHash != res.TraceHash || plain.Stats != res.Stats {
				t.Fatalf("part %s seed %d: runs differ: trace hash %016x with events, %016x traced, %016x plain", part, seed, res.TraceHash, traced.TraceHash, plain.TraceHash)
			}
			if want := min(cfg.Clients, 1); res.Stats.Deafened != want || res.Stats.Isolated != 1 {
				t.Fatalf("part %s seed %d (%d clients): %d isolated and %d deaf failovers, expected 1 and %d", part, seed, cfg.Clients, res.Stats.Isolated, res.Stats.Deafened, want)
			}
			if cfg.Clients == 0 {
				continue
			}
			checkDeafStage(t, part, seed, cfg, evs)
		}
	}
}

func checkDeafStage(t *testing.T, part string, seed int64, cfg Config, evs []Event) {
	t.Helper()
	i := slices.IndexFunc(evs, func(e Event) bool {
		return e.Kind == EvPartition && strings.HasPrefix(e.Desc, "failover: primary") && strings.Contains(e.Desc, " deaf")
	})
	if i < 0 {
		t.Fatalf("part %s seed %d: no deaf-primary partition event", part, seed)
	}
	deaf := evs[i]
	var p, view int
	if _, err := fmt.Sscanf(deaf.Desc, "failover: primary R%d of view %d deaf", &p, &view); err != nil {
		t.Fatalf("part %s seed %d: partition %q: %v", part, seed, deaf.Desc, err)
	}
	var want [][2]int
	for b := 0; b < cfg.Replicas; b++ {
		if b != p {
			want = append(want, [2]int{b, p})
		}
	}
	if !slices.Equal(deaf.Cut, want) {
		t.Fatalf("part %s seed %d: %q cuts %v, expected exactly %v (every replica's link to R%d, one way)", part, seed, deaf.Desc, deaf.Cut, want, p)
	}
	// A write to the deaf primary at once.
	wrote := false
	for _, e := range evs[i+1:] {
		if e.Tick != deaf.Tick {
			break
		}
		if e.Kind == EvInvoke && e.To == p && !e.Read {
			wrote = true
		}
	}
	if !wrote {
		t.Fatalf("part %s seed %d: no client sent the deaf primary R%d a write when it went deaf", part, seed, p)
	}
	// The others moved past its view before the heal; it stayed behind.
	heal := slices.IndexFunc(evs[i:], func(e Event) bool { return e.Kind == EvHeal })
	if heal < 0 {
		t.Fatalf("part %s seed %d: the deaf primary's links never healed", part, seed)
	}
	moved := map[int]bool{}
	for _, e := range evs[i : i+heal] {
		if e.Kind == EvState && e.Replica != p && e.State.View > view {
			moved[e.Replica] = true
		}
		if e.Kind == EvState && e.Replica == p && e.State.View != view {
			t.Fatalf("part %s seed %d: deaf R%d changed view to %d while it heard nothing", part, seed, p, e.State.View)
		}
	}
	if len(moved) < 2 { // (converged checked the rest: every member but p normal in one higher view)
		t.Fatalf("part %s seed %d: only %v moved past view %d while R%d was deaf", part, seed, moved, view, p)
	}
}
