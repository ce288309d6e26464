package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// shortPoint measures system name of from with 4 clients for 300 ms after
// a warm-up; at least one op must complete.
func shortPoint(t *testing.T, from []systemDef, name string, warm time.Duration, reads int) (systemDef, result) {
	t.Helper()
	defs, err := choose(from, name)
	require.NoError(t, err)
	res, err := runPoint(defs[0], 4, warm, 300*time.Millisecond, reads)
	require.NoError(t, err)
	require.Positive(t, res.ops)
	return defs[0], res
}

// TestMeasure runs two short points through the real harness: every op's
// result is checked inside measure, and the counters must be sensible.
func TestMeasure(t *testing.T) {
	for _, name := range []string{"vrlab/mem", "vrlab/tcp", "unreplicated/tcp"} {
		t.Run(name, func(t *testing.T) {
			_, res := shortPoint(t, systems, name, 100*time.Millisecond, 0)
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
		{sys("vrlab", "tcp"), 64, 0, pt(90000, time.Millisecond)},
		{sys("hashicorp", "tcp"), 64, 0, pt(60000, time.Millisecond)},
		{sys("etcd", "tcp"), 64, 0, pt(50000, time.Millisecond)},
		{sys("unreplicated", "tcp"), 64, 0, pt(200000, time.Millisecond)},
		{sys("vrlab", "tcp"), 1, 0, pt(20000, 50*time.Microsecond)},
		{sys("hashicorp", "tcp"), 1, 0, pt(20000, 40*time.Microsecond)},
	}
	g := goals(rows)
	require.Contains(t, g, "1.50× the best peer (hashicorp, 60000 ops/s); goal ≥ 1.5×: met")
	require.Contains(t, g, "45% of the unreplicated ceiling (200000 ops/s); goal ≥ 60%: NOT met")
	require.Contains(t, g, "vrlab p50 50 µs, best peer 40 µs (hashicorp); goal ≤: NOT met")
	require.Contains(t, markdown(rows), "| vrlab | tcp | 64 | 90000 | 1000 | 2000 |")
}

func TestChooseRejectsUnknown(t *testing.T) {
	_, err := choose(systems, "vrlab/tcp,nosuch")
	require.ErrorContains(t, err, `no system "nosuch"`)
	_, err = parseInts("1,x")
	require.Error(t, err)
	_, err = parsePercents("90,101")
	require.Error(t, err)
}

// TestReadWorkloads runs a short read-heavy point of every read system in
// memory (and vrlab's over TCP): every read's result is checked inside
// measure (a version, never older than the client's own last write), and
// vrlab's lease reads send (almost) no replica messages.
func TestReadWorkloads(t *testing.T) {
	for _, name := range []string{"vrlab-lease/mem", "vrlab-lease/tcp", "vrlab-log/mem", "hashicorp/mem", "etcd-safe/mem", "etcd-lease/mem"} {
		t.Run(name, func(t *testing.T) {
			def, _ := shortPoint(t, readSystems, name, 200*time.Millisecond, 90)
			if def.read == readLease {
				_, res := shortPoint(t, readSystems, name, 200*time.Millisecond, 100)
				require.Less(t, res.msgsPerOp, 0.05, "lease reads: only the heartbeats and their answers")
			}
		})
	}
}

func TestReadGoals(t *testing.T) {
	rs := func(lib, read, tr string) systemDef {
		return systemDef{name: lib + "/" + tr, library: lib, transport: tr, read: read}
	}
	pt := func(ops int, msgs float64) []result {
		return []result{{ops: ops, elapsed: time.Second, p50: time.Millisecond, p99: time.Millisecond, msgsPerOp: msgs}}
	}
	rows := []row{
		{rs("vrlab", readLease, "mem"), 64, 100, pt(800000, 0.0001)},
		{rs("hashicorp", readVerify, "mem"), 64, 100, pt(100000, 2)},
		{rs("etcd", readLeaseBased, "mem"), 64, 100, pt(300000, 0)},
		{rs("vrlab", readLease, "tcp"), 64, 100, pt(90000, 0.001)},
		{rs("etcd", readSafe, "tcp"), 64, 100, pt(70000, 1)},
	}
	g := readGoals(rows)
	require.Contains(t, g, "100% reads, 64 clients, mem: vrlab lease reads 800000 ops/s are 2.67× the best peer (etcd ReadIndex (lease), 300000 ops/s); goal ≥ 2.0×: met")
	require.Contains(t, g, "100% reads, 64 clients, tcp: vrlab lease reads 90000 ops/s are 1.29× the best peer (etcd ReadIndex (safe), 70000 ops/s); goal ≥ 1.5×: NOT met")
	require.Contains(t, g, "mem: 0.0001 replica messages per lease read (the heartbeats and their answers); goal 0: met")
	require.Contains(t, markdown(rows), "| vrlab | lease | mem | 100% | 64 | 800000 |")
}
