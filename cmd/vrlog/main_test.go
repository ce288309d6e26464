package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vrlab/sim"
)

// The logs in testdata/ are real output, cut short:
//
//	gotest.log  VRDEBUG=all go test -count=1 -v -run TestPrimaryFailureA ./tests
//	multi.log   VRDEBUG=view,state go test -count=1 -v -run 'TestPrimaryFailureA|TestInitialViewA|TestOwnStartViewChangeA' ./tests
//	fail.log    VRDEBUG=view go test -count=1 -v -run TestOwnStartViewChangeA ./tests,
//	            failing on a seeded bug (its own STARTVIEWCHANGE counted)
//	sim.log     go run ./cmd/vrsim -seed 5 -trace -vr, some stretches of it
//	sim-fail.log  go run ./cmd/vrsim -seed 37 -trace -vr -part A, failing on
//	            the same seeded bug
//
// Each case's expected output is in testdata/golden/NAME.out: what vrlog
// printed, then what it printed on standard error and its exit status, if
// any. After a change to the output, regenerate them with
//
//	go test ./cmd/vrlog -update
//
// and read the diff before committing it.
var update = flag.Bool("update", false, "rewrite the golden files with the output vrlog prints now")

var goldenCases = []struct {
	name  string
	args  []string
	term  terminal // what standard output is: not a terminal, unless set
	stdin string   // a file in testdata/ to read as standard input
}{
	// The three kinds of log.
	{name: "gotest", args: []string{"-n", "24", "gotest.log"}},
	{name: "gotest-default-width", args: []string{"gotest.log"}},
	{name: "terminal-width", args: []string{"-color=never", "gotest.log"}, term: terminal{isTerminal: true, width: 80}},
	{name: "stdin", args: []string{"-n", "20", "-topics", "view"}, stdin: "gotest.log"},
	{name: "multi", args: []string{"-n", "20", "multi.log"}},
	{name: "multi-test", args: []string{"-n", "20", "-test", "TestPrimaryFailureA", "multi.log"}},
	{name: "sim", args: []string{"-n", "30", "sim.log"}},
	{name: "sim-fail", args: []string{"-n", "16", "-topics", "view,send,FAIL", "-from", "40", "sim-fail.log"}},

	// Lines that are not log lines pass through, whatever the filters.
	{name: "fail", args: []string{"fail.log"}},
	{name: "fail-filtered", args: []string{"-replicas", "3", "-to", "1s", "fail.log"}},

	// Filters.
	{name: "topics", args: []string{"-n", "30", "-topics", "view,state", "gotest.log"}},
	{name: "replicas", args: []string{"-n", "30", "-replicas", "0,2", "gotest.log"}},
	{name: "from-to", args: []string{"-n", "30", "-from", "1.6s", "-to", "1694ms", "gotest.log"}},
	{name: "from-to-ms", args: []string{"-n", "30", "-from", "400", "-to", "405", "gotest.log"}},
	{name: "sim-from-to", args: []string{"-n", "30", "-from", "2.05s", "-to", "2.1s", "sim.log"}},
	{name: "sim-from-to-ticks", args: []string{"-n", "30", "-topics", "view,crash,restart,part,heal,recovery", "-from", "200", "-to", "400", "sim.log"}},
	{name: "sim-replicas", args: []string{"-n", "30", "-replicas", "R2", "-from", "170", "-to", "210", "sim.log"}},

	// Wrapping: at words, and inside a word longer than the column.
	{name: "wrap", args: []string{"-n", "10", "-topics", "view,state", "gotest.log"}},

	// Colour.
	{name: "color-always", args: []string{"-n", "30", "-color=always", "-topics", "view,state", "gotest.log"}},
	{name: "color-auto-terminal", args: []string{"-n", "30", "-topics", "view,state", "gotest.log"}, term: terminal{isTerminal: true, width: 100}},
	{name: "color-auto-not-terminal", args: []string{"-n", "30", "-topics", "view,state", "gotest.log"}},
	{name: "color-never-terminal", args: []string{"-n", "30", "-color", "never", "-topics", "view,state", "gotest.log"}, term: terminal{isTerminal: true, width: 100}},

	// Usage errors: one line, exit status 2.
	{name: "bad-topic", args: []string{"-topics", "view,views", "gotest.log"}},
	{name: "bad-from", args: []string{"-from", "1.2x", "gotest.log"}},
	{name: "bad-to", args: []string{"-to", "-3s", "gotest.log"}},
	{name: "bad-range", args: []string{"-from", "2s", "-to", "1s", "gotest.log"}},
	{name: "bad-replica", args: []string{"-replicas", "0,x", "gotest.log"}},
	{name: "replica-out-of-range", args: []string{"-replicas", "0,3", "gotest.log"}},
	{name: "bad-width", args: []string{"-n", "3", "gotest.log"}},
	{name: "bad-width-syntax", args: []string{"-n", "wide", "gotest.log"}},
	{name: "bad-color", args: []string{"-color=sometimes", "gotest.log"}},
	{name: "unknown-flag", args: []string{"-topic", "view", "gotest.log"}},
	{name: "two-files", args: []string{"gotest.log", "multi.log"}},
	{name: "no-such-test", args: []string{"-test", "TestNoSuchA", "multi.log"}},
	{name: "no-test-markers", args: []string{"-test", "TestPrimaryFailureA", "sim.log"}},
	{name: "no-such-file", args: []string{"no-such.log"}},
	{name: "help", args: []string{"-h"}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := runIn(t, tc.args, tc.stdin, tc.term)
			path := filepath.Join("testdata", "golden", tc.name+".out")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/vrlog -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("vrlog %s: output differs from %s (go test ./cmd/vrlog -update rewrites it)\n%s",
					strings.Join(tc.args, " "), path, firstDiff(got, string(want)))
			}
		})
	}
}

// runIn runs vrlog in testdata/ and returns what it printed: its standard
// output, then its standard error and exit status, if any.
func runIn(t *testing.T, args []string, stdin string, term terminal) string {
	t.Helper()
	var in bytes.Reader
	if stdin != "" {
		b, err := os.ReadFile(filepath.Join("testdata", stdin))
		if err != nil {
			t.Fatal(err)
		}
		in.Reset(b)
	}
	// File names in args are relative to testdata/.
	args = append([]string(nil), args...)
	if n := len(args); n > 0 && strings.HasSuffix(args[n-1], ".log") {
		for i := n - 1; i >= 0 && strings.HasSuffix(args[i], ".log"); i-- {
			args[i] = filepath.Join("testdata", args[i])
		}
	}
	var stdout, stderr bytes.Buffer
	status := run(args, &in, &stdout, &stderr, term)
	out := stdout.String()
	if stderr.Len() > 0 {
		out += "--- stderr\n" + stderr.String()
	}
	if status != 0 {
		out += fmt.Sprintf("--- exit %d\n", status)
	}
	return out
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, gl, wl)
		}
	}
	return "(no line differs)"
}

// Colour is on exactly when asked for, or when the output is a terminal.
func TestColorOnlyOnTerminal(t *testing.T) {
	args := []string{"-n", "30", "-topics", "view", "gotest.log"}
	for _, tc := range []struct {
		term  terminal
		extra string
		want  bool
	}{
		{terminal{}, "", false},
		{terminal{isTerminal: true, width: 100}, "", true},
		{terminal{}, "-color=always", true},
		{terminal{isTerminal: true, width: 100}, "-color=never", false},
	} {
		a := args
		if tc.extra != "" {
			a = append([]string{tc.extra}, args...)
		}
		out := runIn(t, a, "", tc.term)
		if got := strings.Contains(out, "\x1b["); got != tc.want {
			t.Errorf("vrlog %s on a terminal %v: escape codes %v, want %v", strings.Join(a, " "), tc.term.isTerminal, got, tc.want)
		}
	}
}

// Every pass-through line comes out exactly as it went in.
func TestPassThroughUnchanged(t *testing.T) {
	in, err := os.ReadFile("testdata/fail.log")
	if err != nil {
		t.Fatal(err)
	}
	out := runIn(t, []string{"-n", "12", "fail.log"}, "", terminal{})
	outLines := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		outLines[l] = true
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(in), "\n"), "\n") {
		if parseEvent(l) == nil && !outLines[l] {
			t.Errorf("line not passed through unchanged: %q", l)
		}
	}
}

func TestReplicaOf(t *testing.T) {
	for _, tc := range []struct {
		topic, text string
		want        int
	}{
		{"view", "R2 starts view change to view 1 (primary 1)", 2},
		{"view", "R2: primary 0 of view 0 silent for 30 ticks", 2},
		{"view", "R1 is primary of view 1: log of R0 (v'=0, n=0), k=0", 1},
		{"send", "COMMIT 0→1 v0 n0 k0", 0},
		{"send", "RECOVERY 3→4 x17", 3},
		{"client", "REPLY v0 c2275191418415154377 s1", -1},
		{"node", "R1 drops PREPARE 1→2 v3 n4 k2: inbox full", 1},
		{"deliver", "R0→R4 PREPARE 0→4 v0 n1 k0 log(0..1]", 4},
		{"deliver", "c0→R2 REQUEST v0 c22 s1", 2},
		{"drop", "R0→R1 PREPARE 0→1 v0 n1 k0 log(0..1]", 1},
		{"crash", "R3 (life 0) until tick 339", 3},
		{"client", "c0 invokes request 1 (c0.1) at R0", 0},
		{"client", "c0 request 1 done: op 1", -1},
		{"part", "isolate R2 until tick 355", -1},
		{"heal", "partition ends", -1},
		{"FAIL", "safety: R1 and R2 committed different ops at 7", -1},
	} {
		if got := replicaOf(tc.topic, tc.text); got != tc.want {
			t.Errorf("replicaOf(%q, %q) = %d, want %d", tc.topic, tc.text, got, tc.want)
		}
	}
}

func TestParseEvent(t *testing.T) {
	for _, tc := range []struct {
		line                string
		stamp, topic, text  string
		sim                 bool
		passesThroughUnseen bool
	}{
		{line: "2026/12/01 09:41:56    305ms view     R2 starts view change", stamp: "305ms", topic: "view", text: "R2 starts view change"},
		{line: "09:41:56.123456   1305ms recovery R2 recovering with nonce 5", stamp: "1305ms", topic: "recovery", text: "R2 recovering with nonce 5"},
		{line: "   305ms send     COMMIT 0→1 v0 n0 k0", stamp: "305ms", topic: "send", text: "COMMIT 0→1 v0 n0 k0"},
		{line: "    370 vr      recovery R0 recovered in view 1", stamp: "370", topic: "recovery", text: "R0 recovered in view 1", sim: true},
		{line: "     35 part    one-way 1→0 until tick 67", stamp: "35", topic: "part", text: "one-way 1→0 until tick 67", sim: true},
		{line: "1403 ticks (14.0s simulated) in 23ms; 36 ops committed", passesThroughUnseen: true},
		{line: "=== RUN   TestPrimaryFailureA", passesThroughUnseen: true},
		{line: "    part_a_test.go:196: R2 or R3 sent 19 DOVIEWCHANGE", passesThroughUnseen: true},
		{line: "ok  	vrlab/tests	1.736s", passesThroughUnseen: true},
	} {
		e := parseEvent(tc.line)
		if tc.passesThroughUnseen {
			if e != nil {
				t.Errorf("parseEvent(%q) = %+v, want nil", tc.line, *e)
			}
			continue
		}
		if e == nil || e.stamp != tc.stamp || e.topic != tc.topic || e.text != tc.text || e.sim != tc.sim {
			t.Errorf("parseEvent(%q) = %+v, want stamp %q topic %q text %q sim %v", tc.line, e, tc.stamp, tc.topic, tc.text, tc.sim)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		s     string
		width int
		want  []string
	}{
		{"R2 starts view change", 30, []string{"R2 starts view change"}},
		{"R2 starts view change", 9, []string{"R2 starts", "view", "change"}},
		{"STARTVIEWCHANGE 2→0 v1", 8, []string{"STARTVIE", "WCHANGE", "2→0 v1"}},
		{"", 8, []string{""}},
	} {
		got := wrap(tc.s, tc.width)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}

func TestTickMillisIsSimulators(t *testing.T) {
	if tickMillis != sim.TickMillis {
		t.Errorf("tickMillis = %d, but sim.TickMillis = %d", tickMillis, sim.TickMillis)
	}
}
