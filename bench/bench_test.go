package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMeasure runs two short points through the real harness: every op's
// result is checked inside measure, and the counters must be sensible.
func TestMeasure(t *testing.T) {
	for _, name := range []string{"vrlab/mem", "vrlab/tcp", "unreplicated/tcp"} {
		t.Run(name, func(t *testing.T) {
			defs, err := choose(name)
			require.NoError(t, err)
			res, err := runPoint(defs[0], 4, 100*time.Millisecond, 300*time.Millisecond)
			require.NoError(t, err)
			require.Positive(t, res.ops)
			require.LessOrEqual(t, res.p50, res.p99)
			require.Positive(t, res.allocsPerOp)
			if strings.HasPrefix(name, "vrlab") {
				require.Positive(t, res.msgsPerOp, "replicas exchange messages")
			} else {
				require.Zero(t, res.msgsPerOp, "the unreplicated server has no peers")
			}
			if name == "vrlab/tcp" {
				require.Positive(t, res.bytesPerOp)
			}
		})
	}
}

func TestGoals(t *testing.T) {
	sys := func(lib, tr string) systemDef { return systemDef{name: lib + "/" + tr, library: lib, transport: tr} }
	pt := func(ops int, p50 time.Duration) []result {
		return []result{{ops: ops, elapsed: time.Second, p50: p50, p99: 2 * p50}}
	}
	rows := []row{
		{sys("vrlab", "tcp"), 64, pt(90000, time.Millisecond)},
		{sys("hashicorp", "tcp"), 64, pt(60000, time.Millisecond)},
		{sys("etcd", "tcp"), 64, pt(50000, time.Millisecond)},
		{sys("unreplicated", "tcp"), 64, pt(200000, time.Millisecond)},
		{sys("vrlab", "tcp"), 1, pt(20000, 50*time.Microsecond)},
		{sys("hashicorp", "tcp"), 1, pt(20000, 40*time.Microsecond)},
	}
	g := goals(rows)
	require.Contains(t, g, "1.50× the best peer (hashicorp, 60000 ops/s); goal ≥ 1.5×: met")
	require.Contains(t, g, "45% of the unreplicated ceiling (200000 ops/s); goal ≥ 60%: NOT met")
	require.Contains(t, g, "vrlab p50 50 µs, best peer 40 µs (hashicorp); goal ≤: NOT met")
	require.Contains(t, markdown(rows), "| vrlab | tcp | 64 | 90000 | 1000 | 2000 |")
}

func TestChooseRejectsUnknown(t *testing.T) {
	_, err := choose("vrlab/tcp,nosuch")
	require.ErrorContains(t, err, `no system "nosuch"`)
	_, err = parseInts("1,x")
	require.Error(t, err)
}
