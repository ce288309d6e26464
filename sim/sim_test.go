package sim

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"vrlab/sim/check"
)

var seedsFlag = flag.Int("sim.seeds", 0, "TestSweep: sweep this many seeds (default 300; 100 with -short)")

// sweepSeeds is how many seeds TestSweep runs: the 300 of CI (about 2 s, 7 s
// under the race detector, on 2 cores), fewer with -short.
func sweepSeeds() int {
	switch {
	case *seedsFlag > 0:
		return *seedsFlag
	case testing.Short():
		return 100
	}
	return 300
}

// TestSweep runs a sweep of seeds with every fault and checker on and
// requires no failure. Each failure names the command that replays it.
func TestSweep(t *testing.T) {
	n := sweepSeeds()
	sum := Sweep(1, n, runtime.GOMAXPROCS(0), nil, Options{})
	var b strings.Builder
	sum.Print(&b)
	t.Logf("sweep of %d seeds:\n%s", n, b.String())
	for _, f := range sum.Failures {
		t.Errorf("%v", f)
	}
	if sum.Stats.Committed == 0 || sum.Stats.Crashes == 0 || sum.Stats.Partitions == 0 || sum.Stats.Dropped == 0 {
		t.Errorf("the sweep exercised too little: %+v", sum.Stats)
	}
}

// TestDeterminism: the same seed twice gives the same trace hash and the
// same trace, and printing the trace does not change the run.
func TestDeterminism(t *testing.T) {
	seeds := []int64{1, 2, 3, 42, 1000}
	if raceEnabled {
		seeds = seeds[:2]
	}
	for _, seed := range seeds {
		var t1, t2 []string
		a := RunSeed(seed, Options{Trace: func(l string) { t1 = append(t1, l) }, VRDebug: true})
		b := RunSeed(seed, Options{Trace: func(l string) { t2 = append(t2, l) }, VRDebug: true})
		c := RunSeed(seed, Options{})
		if a.TraceHash != b.TraceHash || a.TraceHash != c.TraceHash {
			t.Errorf("seed %d: trace hashes differ: %016x, %016x, %016x (untraced)", seed, a.TraceHash, b.TraceHash, c.TraceHash)
		}
		if a.Stats != b.Stats || a.Stats != c.Stats {
			t.Errorf("seed %d: stats differ:\n%+v\n%+v\n%+v", seed, a.Stats, b.Stats, c.Stats)
		}
		if len(t1) != len(t2) {
			t.Errorf("seed %d: traces of %d and %d lines", seed, len(t1), len(t2))
		}
		for i := range min(len(t1), len(t2)) {
			if t1[i] != t2[i] {
				t.Errorf("seed %d: traces differ at line %d:\n%s\n%s", seed, i, t1[i], t2[i])
				break
			}
		}
		if a.Stats.Committed == 0 {
			t.Errorf("seed %d committed nothing", seed)
		}
	}
	if RunSeed(1, Options{}).TraceHash == RunSeed(2, Options{}).TraceHash {
		t.Errorf("seeds 1 and 2 have the same trace hash")
	}
}

// TestSweepIndependentOfWorkers: a sweep's outcome does not depend on how
// many seeds run at once.
func TestSweepIndependentOfWorkers(t *testing.T) {
	n := 16
	a := Sweep(100, n, 1, nil, Options{})
	b := Sweep(100, n, 4, nil, Options{})
	if a.Stats != b.Stats || len(a.Failures) != len(b.Failures) {
		t.Errorf("1 worker: %+v (%d failures); 4 workers: %+v (%d failures)", a.Stats, len(a.Failures), b.Stats, len(b.Failures))
	}
}

// TestCheckersCatch: each checker catches a violation planted before the
// run (a checker that never fires proves nothing).
func TestCheckersCatch(t *testing.T) {
	cases := []struct {
		name, check string
		faults      bool
		plant       func(s *Sim)
	}{
		{"committed op changed", "agreement", false, func(s *Sim) { s.chk.Committed(5, check.OpKey(99, 1), func() string { return "the test" }) }},
		{"op committed twice", "exactly-once", false, func(s *Sim) { s.chk.Committed(1000, check.OpKey(0, 3), func() string { return "the test" }) }},
		{"committed op lost", "agreement", false, func(s *Sim) { s.chk.Committed(100000, check.OpKey(99, 1), func() string { return "the test" }) }},
		{"reply out of real-time order", "linearizability", false, func(s *Sim) { s.chk.MaxCompleted = 1 << 30 }},
		{"second primary of a view", "one-primary", true, func(s *Sim) {
			for v := 1; v < 1000; v++ {
				s.chk.Primary(v, 99, 0)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Draw(5)
			if !tc.faults {
				NoFaults(&cfg)
			}
			cfg.Replicas, cfg.Clients = 3, 2
			s := newSim(cfg, Options{})
			tc.plant(s)
			s.run()
			if s.failure == nil || s.failure.Check != tc.check {
				t.Fatalf("planted %s: expected a %s failure, got %v", tc.name, tc.check, s.failure)
			}
		})
	}
}

// BenchmarkSim3Replicas4Clients measures the simulated-to-real time ratio
// of 3 replicas and 4 clients with each seed's own faults (goal: ≥ 1000
// simulated seconds per real second; one tick is 10 ms simulated).
func BenchmarkSim3Replicas4Clients(b *testing.B) { benchSim(b, false) }

// BenchmarkSim3Replicas4ClientsNoFaults is the same without faults: every
// request goes through, so more ops per tick.
func BenchmarkSim3Replicas4ClientsNoFaults(b *testing.B) { benchSim(b, true) }

func benchSim(b *testing.B, noFaults bool) {
	var ticks, ops int
	start := time.Now()
	for i := 0; i < b.N; i++ {
		cfg := Draw(int64(i + 1))
		cfg.Replicas, cfg.Clients = 3, 4
		if noFaults {
			NoFaults(&cfg)
		}
		res := Run(cfg, Options{})
		if res.Failure != nil {
			b.Fatal(res.Failure)
		}
		ticks += res.Stats.Ticks
		ops += res.Stats.Committed
	}
	wall := time.Since(start).Seconds()
	simSec := float64(ticks) * TickMillis / 1000
	b.ReportMetric(simSec/wall, "sim-s/s")
	b.ReportMetric(float64(ops)/wall, "ops/s")
	b.ReportMetric(float64(ticks)/float64(b.N), "ticks/seed")
	if testing.Verbose() {
		fmt.Printf("%d seeds: %.0f simulated s in %.2f s: %.0f sim-s/s, %.0f ops/s\n", b.N, simSec, wall, simSec/wall, float64(ops)/wall)
	}
}

// TestBatching sweeps the same seeds with many eager clients twice, batching
// off and on, every fault and checker on: both must pass, and with batching
// on a PREPARE must carry at least two ops on average while off it carries
// about one (resends of unacknowledged ops carry more).
func TestBatching(t *testing.T) {
	seeds := 150
	if raceEnabled || testing.Short() {
		seeds = 40
	}
	sweep := func(maxBatch int) Summary {
		sum := Sweep(1, seeds, runtime.GOMAXPROCS(0), func(c *Config) {
			c.Clients, c.ThinkMax, c.MaxBatchOps = 12, 0, maxBatch
		}, Options{})
		for _, f := range sum.Failures {
			t.Errorf("MaxBatchOps %d: %v", maxBatch, f)
		}
		return sum
	}
	perPrepare := func(s Summary) float64 { return float64(s.Stats.PreparedOps) / float64(max(s.Stats.Prepares, 1)) }
	off, on := sweep(1), sweep(0)
	t.Logf("ops per PREPARE: batching off %.2f, on %.2f (%d vs %d PREPAREs for %d vs %d committed ops)",
		perPrepare(off), perPrepare(on), off.Stats.Prepares, on.Stats.Prepares, off.Stats.Committed, on.Stats.Committed)
	if perPrepare(off) > 1.3 {
		t.Errorf("batching off: %.2f ops per PREPARE; expected about 1", perPrepare(off))
	}
	// Simulated round trips last several ticks, and held ops go after two
	// ticks anyway, so batches here are smaller than on a real network.
	if perPrepare(on) < 2 {
		t.Errorf("batching on: only %.2f ops per PREPARE with 12 eager clients; batching is not gathering requests", perPrepare(on))
	}
}

// TestSkewBeyondBound is the demonstration of VR-PROTOCOL.md §7's clock
// assumption (vrsim -skew): seed 2705 of part F, with the longest lease the
// configuration allows (LeaseTicks = ViewChangeTicks − 1), is sound with
// clocks within ±5%; with clocks up to 50% off a primary answers a read
// under a lease that outlived a promise (conformance/lease), and without
// that rule's check the read it answers is stale. (A stale read needs a
// partition to cut off a primary that holds leases, and a write to commit
// on the other side inside the few ticks the skew opens: few seeds do.)
func TestSkewBeyondBound(t *testing.T) {
	const seed, skew = 2705, 0.5
	prepare, err := ForPart("F")
	if err != nil {
		t.Fatal(err)
	}
	run := func(skew float64, conformance bool) *Failure {
		cfg := Draw(seed)
		prepare(&cfg)
		cfg.LeaseTicks = cfg.ViewChangeTicks - 1
		if skew >= 0 {
			cfg.ClockSkew = skew
		}
		cfg.Conformance = conformance
		return Run(cfg, Options{}).Failure
	}
	if f := run(-1, true); f != nil {
		t.Fatalf("seed %d within the bound: %v", seed, f)
	}
	if f := run(skew, true); f == nil || f.Check != "conformance/lease" {
		t.Fatalf("seed %d with clocks %.0f%% off: %v; expected a conformance/lease failure", seed, 100*skew, f)
	}
	if f := run(skew, false); f == nil || f.Check != "linearizability" || !strings.Contains(f.Msg, "stale read") {
		t.Fatalf("seed %d with clocks %.0f%% off, no conformance checks: %v; expected a stale read", seed, 100*skew, f)
	}
}
