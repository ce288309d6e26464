// Command vrlog prints a VRDEBUG log one column per replica, so that what
// each replica did, and when, reads down its own column.
//
// It reads the log from a file, or from standard input if there is no file
// (or the file is "-"). The log can be
//
//   - a grade-logs/ file: the output of one graded test that failed;
//   - the output of go test -v, of one test or several, with VRDEBUG set;
//   - the simulator's trace: go run ./cmd/vrsim -seed N -trace -vr.
//
// Examples:
//
//	go run ./cmd/vrlog grade-logs/20261201-094331-1234/TestOwnStartViewChangeA.log
//	VRDEBUG=view,state go test -count=1 -v -run 'A$' ./tests 2>&1 | go run ./cmd/vrlog -test TestPrimaryFailureA
//	go run ./cmd/vrlog -topics view,state -replicas 0,2 -from 1.2s -to 3s run.log
//	go run ./cmd/vrsim -seed 5 -trace -vr | go run ./cmd/vrlog -topics view,crash,restart,part,heal
//	go run ./cmd/vrlog -color=always run.log | less -RS
//
// Each event goes in the column of the replica it is about: R2 for "R2
// starts view change to view 3"; the sender for a message sent ("COMMIT 0→1
// v0 n0 k0"); the receiver for a message the simulator delivers or drops
// ("deliver R0→R4 …"). An event about no replica (a reply to a client; the
// simulator's partitions, heals and failures) is printed across all the
// columns. The precise rule is replicaOf's, in parse.go. There is one column
// for each replica the log names, R0 to the highest R<n>.
//
// Left of the columns, a gutter gives the event's time and topic. A VRDEBUG
// time is in milliseconds since the test process started ("341ms"); a
// simulator time is a tick ("4012"; one tick is 10ms of simulated time). The
// topic is VRDEBUG's (send, client, normal, view, state, recovery, ckpt,
// node) or, in the simulator's trace, the kind of the simulator's own event
// (config, client, deliver, drop, crash, restart, part, heal, done, FAIL).
// On a terminal each topic has its colour.
//
// An event too long for its column wraps within it. Lines that are not log
// lines ("=== RUN", a test's failure message, the dump of the replicas)
// pass through unchanged, at full width, whatever the filters.
//
// Flags:
//
//	-topics view,state   only these topics
//	-replicas 0,2        only these replicas' columns (events about no replica stay)
//	-from 1.2s -to 3s    only events in this time range, both ends included; a
//	                     plain number is in the log's own unit (ms, or ticks)
//	-test TestName       only the lines of this test (and its subtests), from
//	                     its "=== RUN" to its "--- PASS" or "--- FAIL"
//	-n 30                each column 30 characters wide (default: fit the
//	                     terminal, or 120 characters if not a terminal)
//	-color auto          colour if standard output is a terminal; always, never
//
// A bad flag value prints a one-line error and exits with status 2; an
// input that cannot be read exits with status 1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"
	"golang.org/x/term"
)

// defaultWidth is the width of the output when it is not a terminal.
const defaultWidth = 120

// minWidth is the narrowest column.
const minWidth = 8

func main() {
	out := terminal{}
	if fd := int(os.Stdout.Fd()); term.IsTerminal(fd) {
		out.isTerminal = true
		if w, _, err := term.GetSize(fd); err == nil {
			out.width = w
		}
	}
	// color.Output is os.Stdout, except on Windows, where it also turns
	// the escape codes into console calls.
	os.Exit(run(os.Args[1:], os.Stdin, color.Output, os.Stderr, out))
}

// terminal says what standard output is.
type terminal struct {
	isTerminal bool
	width      int // in characters; 0 if unknown
}

// usageError is a bad flag or flag value: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// run is vrlog with its arguments, input and output; it returns the exit
// status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, out terminal) int {
	err := vrlog(args, stdin, stdout, out)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "vrlog: %v; see vrlog -h\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "vrlog: %v\n", err)
		return 1
	}
}

const usage = `usage: vrlog [flags] [file]   (no file, or "-": standard input)

  -topics view,state   only these topics
  -replicas 0,2        only these replicas' columns
  -from 1.2s -to 3s    only events in this time range (a plain number: ms, or ticks)
  -test TestName       only this test's lines
  -n 30                column width (default: fit the terminal)
  -color auto          auto, always or never

See go doc ./cmd/vrlog.
`

// options are the flags, checked.
type options struct {
	topics   []string // nil: all
	replicas []int    // nil: all
	from, to bound
	test     string
	width    int // of a column; 0: fit the terminal
	color    bool
}

func parseFlags(args []string, out terminal) (options, string, error) {
	fs := flag.NewFlagSet("vrlog", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints the error, on one line
	var (
		topics   = fs.String("topics", "", "")
		replicas = fs.String("replicas", "", "")
		from     = fs.String("from", "", "")
		to       = fs.String("to", "", "")
		test     = fs.String("test", "", "")
		width    = fs.Int("n", 0, "")
		colorArg = fs.String("color", "auto", "")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return options{}, "", err
		}
		return options{}, "", usageError{err.Error()}
	}
	var o options
	var err error
	if *topics != "" {
		o.topics = strings.Split(*topics, ",")
	}
	if *replicas != "" {
		for _, s := range strings.Split(*replicas, ",") {
			n, err := strconv.Atoi(strings.TrimPrefix(s, "R"))
			if err != nil || n < 0 {
				return o, "", usagef("-replicas %s: %q is not a replica number", *replicas, s)
			}
			o.replicas = append(o.replicas, n)
		}
	}
	if o.from, err = parseBound("-from", *from); err != nil {
		return o, "", err
	}
	if o.to, err = parseBound("-to", *to); err != nil {
		return o, "", err
	}
	if o.from.set && o.to.set && o.from.raw == o.to.raw &&
		(o.from.raw && o.from.n > o.to.n || !o.from.raw && o.from.d > o.to.d) {
		return o, "", usagef("-from %s is after -to %s", *from, *to)
	}
	o.test = *test
	if *width != 0 && *width < minWidth {
		return o, "", usagef("-n %d: a column is at least %d characters wide", *width, minWidth)
	}
	o.width = *width
	switch *colorArg {
	case "auto":
		o.color = out.isTerminal
	case "always":
		o.color = true
	case "never":
		o.color = false
	default:
		return o, "", usagef("-color %s: want auto, always or never", *colorArg)
	}
	file := ""
	switch fs.NArg() {
	case 0:
	case 1:
		file = fs.Arg(0)
	default:
		return o, "", usagef("one log at a time, not %d: %s", fs.NArg(), strings.Join(fs.Args(), " "))
	}
	return o, file, nil
}

// A bound is one end of the -from/-to time range.
type bound struct {
	set bool
	raw bool          // n is in the log's own unit (ms, or ticks)
	n   int64         // if raw
	d   time.Duration // if not raw
}

func parseBound(name, s string) (bound, error) {
	if s == "" {
		return bound{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return bound{set: true, raw: true, n: n}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return bound{}, usagef("%s %s: want a duration such as 1.2s or 341ms, or a plain number of ms or simulator ticks", name, s)
	}
	return bound{set: true, d: d}, nil
}

// before reports whether e comes before b; after, whether it comes after.
func (b bound) before(e *event) bool {
	if b.raw {
		return e.time < b.n
	}
	return e.at() < b.d
}

func (b bound) after(e *event) bool {
	if b.raw {
		return e.time > b.n
	}
	return e.at() > b.d
}

func vrlog(args []string, stdin io.Reader, stdout io.Writer, out terminal) error {
	o, file, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	in := stdin
	if f, ok := stdin.(*os.File); ok && file == "" && term.IsTerminal(int(f.Fd())) {
		return usagef("no log to read: name a file, or pipe one in")
	}
	if file != "" && file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	lines, err := readLines(in)
	if err != nil {
		return err
	}

	// Checks that need the log: the test, the topics and the replicas
	// must be in it.
	if o.test != "" {
		lines, err = selectTest(lines, o.test)
		if err != nil {
			return err
		}
	}
	if err := checkTopics(o.topics, lines); err != nil {
		return err
	}
	n := countReplicas(lines)
	cols := o.replicas
	if cols == nil {
		for r := range n {
			cols = append(cols, r)
		}
	}
	for _, r := range cols {
		if n == 0 {
			return usagef("-replicas: this log names no replica")
		}
		if r >= n {
			return usagef("-replicas: no R%d in this log, which has R0 to R%d", r, n-1)
		}
	}
	if len(cols) == 0 {
		cols = []int{0} // a log that names no replica: one column
	}

	// Keep the events the filters let through, and every other line.
	var kept []line
	stampWidth := len("time")
	for _, l := range lines {
		if e := l.ev; e != nil {
			if o.topics != nil && !slices.Contains(o.topics, e.topic) ||
				o.replicas != nil && e.replica >= 0 && !slices.Contains(o.replicas, e.replica) ||
				o.from.set && o.from.before(e) ||
				o.to.set && o.to.after(e) {
				continue
			}
			stampWidth = max(stampWidth, len(e.stamp))
		}
		kept = append(kept, l)
	}

	width := o.width
	if width == 0 {
		total := out.width
		if !out.isTerminal || total <= 0 {
			total = defaultWidth
		}
		width = max(minWidth, (total-gutterWidth(stampWidth))/len(cols)-runeLen(sep))
	}
	p := newPrinter(stdout, cols, width, stampWidth, o.color)
	for _, l := range kept {
		if l.ev == nil {
			p.passThrough(l.text)
		} else {
			p.print(l.ev)
		}
	}
	return nil
}

// selectTest returns the lines of test name and its subtests.
func selectTest(lines []line, name string) ([]line, error) {
	var tests []string // in the log, for the error message
	var sel []line
	for _, l := range lines {
		if l.test != "" && !strings.Contains(l.test, "/") && !slices.Contains(tests, l.test) {
			tests = append(tests, l.test)
		}
		if inTest(l.test, name) {
			sel = append(sel, l)
		}
	}
	if sel != nil {
		return sel, nil
	}
	if len(tests) == 0 {
		return nil, usagef("-test %s: this log has no test markers (=== RUN)", name)
	}
	return nil, usagef("-test %s: not in this log, which has %s", name, strings.Join(tests, ", "))
}

// checkTopics checks that each topic is VRDEBUG's, the simulator's, or in
// the log (a topic a student added).
func checkTopics(topics []string, lines []line) error {
	for _, t := range topics {
		if slices.Contains(vrTopics, t) || slices.Contains(simKinds, t) {
			continue
		}
		if slices.ContainsFunc(lines, func(l line) bool { return l.ev != nil && l.ev.topic == t }) {
			continue
		}
		return usagef("-topics: unknown topic %q: VRDEBUG's are %s, the simulator's %s",
			t, strings.Join(vrTopics, ","), strings.Join(simKinds, ","))
	}
	return nil
}
