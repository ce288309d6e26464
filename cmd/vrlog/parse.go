package main

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// tickMillis is the simulated duration of one simulator tick, in ms. It is
// sim.TickMillis (a test checks that they agree); vrlog does not import
// package sim, so that it builds even when vr/ does not.
const tickMillis = 10

// vrTopics are the VRDEBUG topics of vr/debug.go.
var vrTopics = []string{"send", "client", "normal", "view", "state", "recovery", "ckpt", "node"}

// simKinds are the simulator's own kinds of trace line (sim/*.go tracef),
// besides "vr", which carries a replica's VRDEBUG event.
var simKinds = []string{"config", "client", "deliver", "drop", "crash", "restart", "part", "heal", "done", "FAIL"}

// simGlobal are the simulator's events that concern the whole run rather than
// one replica: they are printed across all the columns.
var simGlobal = map[string]bool{"config": true, "part": true, "heal": true, "done": true, "FAIL": true}

// A line is one line of the input: an event, or a line that passes through.
type line struct {
	text string // as read, without the newline
	ev   *event // nil if the line is not a log line: it passes through
	test string // the go test it belongs to ("" outside every test)
}

// An event is one log line, from VRDEBUG or from the simulator's trace.
type event struct {
	stamp   string // the time as the gutter shows it: "341ms", or a tick "4012"
	time    int64  // the time in the log's own unit: ms, or ticks if sim
	sim     bool   // from a simulator trace
	topic   string // the VRDEBUG topic, or the simulator's kind of event
	text    string // the event itself
	replica int    // the replica the event is about (its column); -1 for none
}

// at is the event's time since the start of the run.
func (e *event) at() time.Duration {
	if e.sim {
		return time.Duration(e.time) * tickMillis * time.Millisecond
	}
	return time.Duration(e.time) * time.Millisecond
}

var (
	// A VRDEBUG line, after the log package's optional date and time:
	//	2026/12/01 09:41:56    305ms view     R2 starts view change to view 1 (primary 1)
	vrdebugLine = regexp.MustCompile(`^(?:\d{4}/\d\d/\d\d )?(?:\d\d:\d\d:\d\d(?:\.\d+)? )?\s*(\d+)ms ([a-z]+)\s+(.*)$`)

	// A line of the simulator's trace: tick, kind, event. The kind "vr"
	// carries a replica's VRDEBUG topic and event:
	//	     35 part    one-way 1→0 until tick 67
	//	    370 vr      recovery R0 recovered in view 1 from R1 (n=11 k=10)
	simLine  = regexp.MustCompile(`^\s*(\d+) ([a-zA-Z]+)\s+(.*)$`)
	vrInSim  = regexp.MustCompile(`^([a-z]+)\s+(.*)$`)
	replicaR = regexp.MustCompile(`\bR(\d+)\b`)           // R2
	arrow    = regexp.MustCompile(`\b(\d+)→(\d+)\b`)      // 0→1, as in "COMMIT 0→1 v0 n0 k0"
	toR      = regexp.MustCompile(`^(?:R|c)\d+→R(\d+)\b`) // R0→R4 or c0→R0, as in "deliver R0→R4 PREPARE ..."

	// go test -v's markers of where a test's output begins and ends:
	//	=== RUN   TestPrimaryFailureA
	//	--- FAIL: TestPrimaryFailureA (1.72s)
	testStart = regexp.MustCompile(`^=== (?:RUN|CONT|NAME|PAUSE)\s+(\S+)`)
	testEnd   = regexp.MustCompile(`^\s*--- (?:PASS|FAIL|SKIP): (\S+)`)
)

// parseEvent returns the event on a log line, or nil if it is not one.
func parseEvent(s string) *event {
	if m := vrdebugLine.FindStringSubmatch(s); m != nil {
		return newEvent(m[1]+"ms", m[1], false, m[2], m[3])
	}
	if m := simLine.FindStringSubmatch(s); m != nil {
		kind, text := m[2], m[3]
		if kind == "vr" {
			t := vrInSim.FindStringSubmatch(text)
			if t == nil {
				return nil
			}
			return newEvent(m[1], m[1], true, t[1], t[2])
		}
		for _, k := range simKinds {
			if kind == k {
				return newEvent(m[1], m[1], true, kind, text)
			}
		}
	}
	return nil
}

func newEvent(stamp, n string, sim bool, topic, text string) *event {
	t, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return nil // too many digits: not a time
	}
	return &event{stamp: stamp, time: t, sim: sim, topic: topic, text: text, replica: replicaOf(topic, text)}
}

// replicaOf decides which replica an event is about, that is, its column:
//
//   - the simulator's deliver and drop: the receiver, R4 in "R0→R4 PREPARE …"
//     (the message arrives there, or fails to);
//   - the simulator's config, part, heal, done and FAIL: none;
//   - otherwise the first R<n> in the event, R2 in "R2 enters view 1 as backup";
//   - otherwise, for a message with no R<n> (the send topic), its sender:
//     0 in "COMMIT 0→1 v0 n0 k0";
//   - otherwise none, -1 (a reply to a client: "REPLY v0 c7 s1").
//
// An event about no replica is printed across all the columns.
func replicaOf(topic, text string) int {
	if topic == "deliver" || topic == "drop" {
		if m := toR.FindStringSubmatch(text); m != nil {
			return atoi(m[1])
		}
	}
	if simGlobal[topic] {
		return -1
	}
	if m := replicaR.FindStringSubmatch(text); m != nil {
		return atoi(m[1])
	}
	if m := arrow.FindStringSubmatch(text); m != nil {
		return atoi(m[1])
	}
	return -1
}

// atoi converts a string of digits, returning -1 if it is too long.
func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// readLines reads the whole input, parses each line, and notes which test
// each line belongs to.
func readLines(r io.Reader) ([]line, error) {
	var lines []line
	test := ""
	br := bufio.NewReader(r)
	for {
		s, err := br.ReadString('\n')
		if s != "" {
			s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
			l := line{text: s, ev: parseEvent(s)}
			if m := testStart.FindStringSubmatch(s); m != nil {
				test = m[1]
			}
			l.test = test
			if m := testEnd.FindStringSubmatch(s); m != nil {
				l.test = m[1]
				// The test is over: what follows is its parent's (a
				// subtest's parent), or no test's.
				test = ""
				if i := strings.LastIndex(m[1], "/"); i >= 0 {
					test = m[1][:i]
				}
			}
			lines = append(lines, l)
		}
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}

// inTest reports whether a line of test got belongs to test want, or to one
// of its subtests.
func inTest(got, want string) bool {
	return got == want || strings.HasPrefix(got, want+"/")
}

// countReplicas returns how many replica columns the lines need: one more than
// the highest replica they name, in an event's R<n> or n→m, or in the R<n> of
// any other line (a failing test's dump of the replicas names them all).
func countReplicas(lines []line) int {
	highest := -1
	see := func(n int) { highest = max(highest, n) }
	for _, l := range lines {
		for _, m := range replicaR.FindAllStringSubmatch(l.text, -1) {
			see(atoi(m[1]))
		}
		if l.ev != nil {
			see(l.ev.replica)
			for _, m := range arrow.FindAllStringSubmatch(l.ev.text, -1) {
				see(atoi(m[1]))
				see(atoi(m[2]))
			}
		}
	}
	return highest + 1
}
