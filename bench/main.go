// Command bench measures vrlab side by side with hashicorp/raft and etcd
// raft, and an unreplicated server as the ceiling: three replicas in one
// process, closed-loop clients, 88-byte write commands through the whole
// submit → commit → apply → reply path, no disk for anyone. See
// BENCHMARKS.md for what the numbers mean.
//
//	go run ./bench -quick            # every system once, short (under 2 minutes)
//	go run ./bench                   # the full run: every point 5 times
//	go run ./bench -systems vrlab/tcp -clients 64 -cpuprofile cpu.out
//	go run ./bench -reads 90,100     # the read-heavy workloads: each library's linearizable reads
//	go run ./bench -failover -kills 20   # failover time: crash the leader under load (below)
//
// The failover benchmark (-failover) runs vrlab, hashicorp/raft and etcd
// raft, each with replicas talking over loopback TCP, and every client
// submitting in-process (a vr.Client calling the vrlab Nodes, the peers'
// Submit). For each kill it starts a fresh group, runs 16 closed-loop
// writing clients for -warm, crashes the leader, and measures the time
// from the kill to the first command a new leader commits, and the
// latencies of the commands in flight across the kill; the load goes on
// 300 ms past the recovery, and then every write acknowledged must be on
// both surviving replicas (a lost write fails the run). Every system gets
// the same timing, -heartbeat and -election (BENCHMARKS.md, "Failover",
// says how each library's knobs map onto them); the throughput rows keep
// their own configuration. -systems picks among vrlab, hashicorp, etcd;
// -o writes the table.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"time"

	"vrlab/bench/etcdraft"
	"vrlab/bench/hashiraft"
	"vrlab/bench/system"
)

// A system under test: how to start it.
type systemDef struct {
	name      string // library/transport
	library   string
	transport string // "tcp" or "mem"
	start     func() (*target, error)
	read      string // the read-heavy workloads: how it reads ("" in the write workload)
}

var systems = []systemDef{
	{"vrlab/tcp", "vrlab", "tcp", vrlabTCP, ""},
	{"vrlab/mem", "vrlab", "mem", vrlabMem, ""},
	{"hashicorp/tcp", "hashicorp", "tcp", groupTCP(func() (system.Group, error) { return hashiraft.New("tcp") }), ""},
	{"hashicorp/mem", "hashicorp", "mem", groupMem(func() (system.Group, error) { return hashiraft.New("inmem") }), ""},
	{"etcd/tcp", "etcd", "tcp", groupTCP(func() (system.Group, error) { return etcdraft.New("tcp") }), ""},
	{"etcd/mem", "etcd", "mem", groupMem(func() (system.Group, error) { return etcdraft.New("inmem") }), ""},
	{"unreplicated/tcp", "unreplicated", "tcp", unreplicatedTCP, ""},
	{"vrlab/shared", "vrlab", "shared", sharedConn(vrlabTCP), ""},
	{"hashicorp/shared", "hashicorp", "shared", sharedConn(groupTCP(func() (system.Group, error) { return hashiraft.New("tcp") })), ""},
	{"etcd/shared", "etcd", "shared", sharedConn(groupTCP(func() (system.Group, error) { return etcdraft.New("tcp") })), ""},
	{"unreplicated/shared", "unreplicated", "shared", sharedConn(unreplicatedTCP), ""},
}

// readSystems are the systems of the read-heavy workloads (-reads), each
// with its library's linearizable read.
var readSystems = []systemDef{
	{"vrlab-lease/tcp", "vrlab", "tcp", vrlabLeaseTCP, readLease},
	{"vrlab-lease/mem", "vrlab", "mem", vrlabLeaseMem, readLease},
	{"vrlab-log/tcp", "vrlab", "tcp", vrlabTCP, readLog},
	{"vrlab-log/mem", "vrlab", "mem", vrlabMem, readLog},
	{"hashicorp/tcp", "hashicorp", "tcp", groupTCP(func() (system.Group, error) { return hashiraft.New("tcp") }), readVerify},
	{"hashicorp/mem", "hashicorp", "mem", groupMem(func() (system.Group, error) { return hashiraft.New("inmem") }), readVerify},
	{"etcd-safe/tcp", "etcd", "tcp", groupTCP(func() (system.Group, error) { return etcdraft.New("tcp") }), readSafe},
	{"etcd-safe/mem", "etcd", "mem", groupMem(func() (system.Group, error) { return etcdraft.New("inmem") }), readSafe},
	{"etcd-lease/tcp", "etcd", "tcp", groupTCP(func() (system.Group, error) { return etcdraft.NewLeaseBased("tcp") }), readLeaseBased},
	{"etcd-lease/mem", "etcd", "mem", groupMem(func() (system.Group, error) { return etcdraft.NewLeaseBased("inmem") }), readLeaseBased},
	{"unreplicated/tcp", "unreplicated", "tcp", unreplicatedTCP, "local"},
	{"vrlab-lease/shared", "vrlab", "shared", sharedConn(vrlabLeaseTCP), readLease},
	{"vrlab-log/shared", "vrlab", "shared", sharedConn(vrlabTCP), readLog},
	{"hashicorp/shared", "hashicorp", "shared", sharedConn(groupTCP(func() (system.Group, error) { return hashiraft.New("tcp") })), readVerify},
	{"etcd-safe/shared", "etcd", "shared", sharedConn(groupTCP(func() (system.Group, error) { return etcdraft.New("tcp") })), readSafe},
	{"etcd-lease/shared", "etcd", "shared", sharedConn(groupTCP(func() (system.Group, error) { return etcdraft.NewLeaseBased("tcp") })), readLeaseBased},
	{"unreplicated/shared", "unreplicated", "shared", sharedConn(unreplicatedTCP), "local"},
}

// The read paths of the read-heavy workloads.
const (
	readLease      = "lease"             // vrlab: the primary's leases (Part F)
	readLog        = "log"               // vrlab without leases: through the log, like a write
	readVerify     = "VerifyLeader"      // hashicorp: VerifyLeader, then the leader's FSM
	readSafe       = "ReadIndex (safe)"  // etcd: ReadIndex with ReadOnlySafe
	readLeaseBased = "ReadIndex (lease)" // etcd: ReadIndex with ReadOnlyLeaseBased
)

func main() {
	var (
		quick      = flag.Bool("quick", false, "one short repetition of every point (under 2 minutes)")
		reps       = flag.Int("reps", 5, "repetitions of every point (the table shows the median)")
		dur        = flag.Duration("d", 5*time.Second, "measured time of a point")
		warm       = flag.Duration("warm", time.Second, "warm-up before a point is measured")
		clientsArg = flag.String("clients", "1,16,64", "closed-loop client counts")
		only       = flag.String("systems", "", "comma-separated systems to run (default all): "+names())
		cpuprofile = flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
		mutexprof  = flag.String("mutexprofile", "", "write a mutex contention profile of the run to this file")
		blockprof  = flag.String("blockprofile", "", "write a blocking profile of the run to this file")
		traceFile  = flag.String("trace", "", "write an execution trace of the run to this file")
		memprof    = flag.String("memprofile", "", "write an allocation profile of the run to this file")
		out        = flag.String("o", "", "also write the Markdown table to this file")
		batch      = flag.Int("batch", 0, "vrlab's MaxBatchOps (1 = batching off; 0 = the default)")
		checkpoint = flag.Int("checkpoint", 0, "vrlab's CheckpointEvery (0 = every system's 10,000), a diagnostic: vrlab's view change carries the log since the last checkpoint")
		interleave = flag.Bool("interleave", false, "run the repetitions round-robin over every point (each round runs every point once), so a machine whose load drifts slows every system alike")
		readsArg   = flag.String("reads", "", "the read-heavy workloads: comma-separated `percentages` of reads (e.g. 90,100); each library's linearizable read (systems: "+readNames()+")")
		failover   = flag.Bool("failover", false, "the failover benchmark: crash the leader under load, -kills times per system (systems: "+failoverNames()+")")
		kills      = flag.Int("kills", 20, "-failover: kills per system (a fresh group each)")
		heartbeat  = flag.Duration("heartbeat", 50*time.Millisecond, "-failover: every system's heartbeat interval")
		election   = flag.Duration("election", 500*time.Millisecond, "-failover: every system's election / view-change timeout T (the Raft libraries draw theirs from [T, 2T); a vrlab backup waits exactly T)")
	)
	flag.Parse()
	vrOptions.MaxBatchOps = *batch
	if *checkpoint > 0 {
		vrOptions.CheckpointEvery = *checkpoint
	}
	if *failover {
		chosen, err := chooseFailover(*only)
		if err != nil || *kills < 1 || *heartbeat <= 0 || *election <= *heartbeat {
			fmt.Fprintf(os.Stderr, "bench: bad arguments: %v -kills %d -heartbeat %v -election %v\n", err, *kills, *heartbeat, *election)
			os.Exit(2)
		}
		os.Exit(runFailover(chosen, *kills, system.Timing{Heartbeat: *heartbeat, Election: *election}, *warm, *out))
	}
	if *quick {
		*reps, *dur, *warm = 1, 2*time.Second, 300*time.Millisecond
	}
	counts, err := parseInts(*clientsArg)
	if err != nil || *reps < 1 || *dur <= 0 {
		fmt.Fprintf(os.Stderr, "bench: bad arguments: -clients %q, -reps %d, -d %v\n", *clientsArg, *reps, *dur)
		os.Exit(2)
	}
	reads := []int{0}
	from := systems
	if *readsArg != "" {
		if reads, err = parsePercents(*readsArg); err != nil {
			fmt.Fprintf(os.Stderr, "bench: bad arguments: -reads %q: %v\n", *readsArg, err)
			os.Exit(2)
		}
		from = readSystems
	}
	chosen, err := choose(from, *only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	order := sequential
	if *interleave {
		order = roundRobin
	}
	os.Exit(run(chosen, counts, reads, *reps, order, *warm, *dur, *out, profiles{
		cpu: *cpuprofile, trace: *traceFile, mem: *memprof, mutex: *mutexprof, block: *blockprof,
	}))
}

// profiles are the files the run records profiles into ("" = none).
type profiles struct{ cpu, trace, mem, mutex, block string }

// run measures every point and prints the table; it returns the exit code.
// The orders of the measurements: every repetition of a point one after
// another, or one repetition of every point per round.
const (
	sequential = iota
	roundRobin
)

func run(chosen []systemDef, counts, reads []int, reps, order int, warm, dur time.Duration, out string, prof profiles) int {
	defer record(prof.cpu, pprof.StartCPUProfile, pprof.StopCPUProfile)()
	defer record(prof.trace, trace.Start, trace.Stop)()
	if prof.mem != "" {
		runtime.MemProfileRate = 4096
		defer writeProfile("allocs", prof.mem)
	}
	if prof.mutex != "" {
		runtime.SetMutexProfileFraction(10)
		defer writeProfile("mutex", prof.mutex)
	}
	if prof.block != "" {
		runtime.SetBlockProfileRate(10000) // one sample per 10 µs blocked
		defer writeProfile("block", prof.block)
	}
	fmt.Printf("vrlab bench: %s, GOMAXPROCS=%d, %d × (%v warm-up + %v) per point, clients %v, reads %v%%\n",
		runtime.Version(), runtime.GOMAXPROCS(0), reps, warm, dur, counts, reads)
	var all []*row
	for _, pct := range reads {
		for _, s := range chosen {
			for _, n := range counts {
				all = append(all, &row{sys: s, clients: n, reads: pct})
			}
		}
	}
	failed := false
	measurePoint := func(r *row, rep int) {
		res, err := runPoint(r.sys, r.clients, warm, dur, r.reads)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s, %d clients, %d%% reads, repetition %d: %v\n", r.sys.name, r.clients, r.reads, rep+1, err)
			failed = true
			return
		}
		r.results = append(r.results, res)
	}
	if order == roundRobin {
		for rep := 0; rep < reps; rep++ {
			for _, r := range all {
				measurePoint(r, rep)
			}
			fmt.Printf("round %d of %d done\n", rep+1, reps)
		}
	}
	var rows []row
	for _, r := range all {
		if order == sequential {
			for rep := 0; rep < reps; rep++ {
				measurePoint(r, rep)
			}
		}
		if len(r.results) > 0 {
			fmt.Println(r.text())
			rows = append(rows, *r)
		}
	}
	table := markdown(rows) + "\n" + goals(rows)
	if reads[0] > 0 {
		table = markdown(rows) + "\n" + readGoals(rows)
	}
	if !printTable(table, out) {
		failed = true
	}
	if failed {
		return 1
	}
	return 0
}

// printTable prints the Markdown table and, with out set, also writes it
// there; it reports whether that went well.
func printTable(table, out string) bool {
	fmt.Println()
	fmt.Print(table)
	if out == "" {
		return true
	}
	if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return false
	}
	return true
}

// record starts a CPU profile or an execution trace into file, unless file
// is "", and returns what stops it.
func record(file string, start func(io.Writer) error, stop func()) func() {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err == nil {
		err = start(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	return func() { stop(); f.Close() }
}

// writeProfile writes the named runtime profile into file.
func writeProfile(name, file string) {
	f, err := os.Create(file)
	if err == nil {
		err = pprof.Lookup(name).WriteTo(f, 0)
		f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
}

// runPoint starts a fresh system, measures it, and stops it.
func runPoint(s systemDef, clients int, warm, d time.Duration, reads int) (result, error) {
	t, err := s.start()
	if err != nil {
		return result{}, fmt.Errorf("start: %w", err)
	}
	defer t.close()
	runtime.GC() // the previous point's garbage is not this one's
	return measure(t, clients, warm, d, reads)
}

func names() string     { return namesOf(systems) }
func readNames() string { return namesOf(readSystems) }

func namesOf(defs []systemDef) string {
	var n []string
	for _, s := range defs {
		n = append(n, s.name)
	}
	return strings.Join(n, ", ")
}

func choose(from []systemDef, list string) ([]systemDef, error) {
	if list == "" {
		return from, nil
	}
	var out []systemDef
	for _, name := range strings.Split(list, ",") {
		i := slices.IndexFunc(from, func(s systemDef) bool { return s.name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("no system %q; the systems are %s", name, namesOf(from))
		}
		out = append(out, from[i])
	}
	return out, nil
}

// parsePercents parses read percentages, 1 to 100.
func parsePercents(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 100 {
			return nil, fmt.Errorf("bad percentage %q (1 to 100)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}
