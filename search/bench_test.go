package search

import (
	"syscall"
	"testing"
	"time"
)

// benchConfigs are searches of the sizes of the graded ones (tests/
// part_*_search_test.go), for the speed of the search on one core:
//
//	GOMAXPROCS=1 go test ./search -run X -bench . -cpu 1 -count 5
//
// Each reports distinct states a second (states/s, by the clock), distinct
// states a second of the process's CPU time (states/cpu-s: what the search
// would do on a core of its own, on a machine where other jobs take turns
// on the cores), and the states and moves of one search, which must not
// change with the speed.
var benchConfigs = []struct {
	name string
	cfg  Config
}{
	{"ViewChange3", Config{Replicas: 3, Budget: Budget{Ticks: 2}, MaxDepth: 9}},
	{"Commit3", Config{Replicas: 3, Clients: 1, Requests: 1, Budget: Budget{Ticks: 1, Drops: 1, Dups: 1}, MaxDepth: 8}},
	{"Recovery3", Config{Replicas: 3, Clients: 1, Requests: 1, Budget: Budget{Crashes: 1, Ticks: 1, Drops: 1},
		Prefix: []string{"invoke c0", "deliver REQUEST c0→0 s1"}, MaxDepth: 7}},
	{"ViewChange5", Config{Replicas: 5, Budget: Budget{Ticks: 1}, Prefix: []string{"tick R1"}, MaxDepth: 6}},
}

func BenchmarkSearch(b *testing.B) {
	for _, bc := range benchConfigs {
		b.Run(bc.name, func(b *testing.B) {
			var states, moves int
			var elapsed time.Duration
			cpu0 := cpuTime()
			for b.Loop() {
				res := Run(bc.cfg)
				if res.Failure != nil {
					b.Fatalf("%s", res.Failure.Report(""))
				}
				states, moves = res.States, res.Moves
				elapsed += res.Elapsed
			}
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(states)*float64(b.N)/elapsed.Seconds(), "states/s")
			b.ReportMetric(float64(states)*float64(b.N)/cpu.Seconds(), "states/cpu-s")
			b.ReportMetric(float64(states), "states")
			b.ReportMetric(float64(moves), "moves")
		})
	}
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
