package search

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"vrlab/sim/check"
	"vrlab/vr"
)

// A trace is one move a line, in the simulator's trace style:
//
//	   3 deliver STARTVIEWCHANGE 1→2 v1 n0 k0
//	        R2 normal v0 v'0 n0 k0 x0 → view-change v1 v'0 n0 k0 x0
//
// the move's number and what it did, then each replica it changed, before →
// after. A move's text names it exactly, so a list of them replays: see
// Replay and ParseMoves.

// newLog is the committed log of a new group. Its failures go to the state
// being built (work.cur): a log is shared by the states that do not change it.
func newLog(s *State) *check.Log { return check.NewLog(s.cfg.work().logFail, who) }

// msgText is how a trace names a message.
func msgText(m *vr.Message) string {
	if m.Type == vr.MsgRequest {
		return fmt.Sprintf("REQUEST c%d→%d s%d", m.ClientID-1, m.To, m.RequestNum)
	}
	return m.String()
}

// text is how a trace names move mv in state s. Two different messages in
// flight may read the same (RECOVERYRESPONSE shows no nonce, say): the
// second and later get " #2", " #3", in the order of their keys.
func (s *State) text(mv Move) string {
	switch mv.Kind {
	case Tick, Crash:
		return fmt.Sprintf("%v R%d", mv.Kind, mv.Node)
	case Invoke, Resend:
		return fmt.Sprintf("%v c%d", mv.Kind, mv.Node)
	}
	i, ok := s.find(mv.Msg)
	if !ok {
		return fmt.Sprintf("%v <message %016x not in flight>", mv.Kind, mv.Msg)
	}
	t := msgText(s.msg(s.net[i]))
	k := 1
	for j := 0; j < i; j++ {
		if msgText(s.msg(s.net[j])) == t {
			k++
		}
	}
	if k > 1 {
		t += " #" + strconv.Itoa(k)
	}
	return mv.Kind.String() + " " + t
}

// parse is the move of state s that text names.
func (s *State) parse(text string) (Move, error) {
	text = strings.TrimSpace(text)
	verb, rest, _ := strings.Cut(text, " ")
	var kind Kind
	for k, name := range kindNames {
		if name == verb {
			kind = k
		}
	}
	switch kind {
	case 0:
		return Move{}, fmt.Errorf("unknown move %q (want deliver, drop, dup, tick, crash, invoke or resend)", text)
	case Tick, Crash, Invoke, Resend:
		var n int
		prefix := "R"
		if kind == Invoke || kind == Resend {
			prefix = "c"
		}
		if _, err := fmt.Sscanf(rest, prefix+"%d", &n); err != nil {
			return Move{}, fmt.Errorf("move %q: want %v %s<number>", text, kind, prefix)
		}
		return Move{Kind: kind, Node: n}, nil
	}
	want, k := rest, 1
	if i := strings.LastIndex(rest, " #"); i >= 0 {
		if n, err := strconv.Atoi(rest[i+2:]); err == nil {
			want, k = rest[:i], n
		}
	}
	for _, key := range s.net {
		if msgText(s.msg(key)) == want {
			if k--; k == 0 {
				return Move{Kind: kind, Msg: key}, nil
			}
		}
	}
	var inFlight []string
	for _, key := range s.net {
		inFlight = append(inFlight, msgText(s.msg(key)))
	}
	return Move{}, fmt.Errorf("move %q: no such message in flight; in flight: %s", text, strings.Join(inFlight, " | "))
}

// traceStep applies mv to s and appends the trace lines of the move
// (numbered n) to trace. It returns the next state, nil if mv did nothing.
func traceStep(s *State, mv Move, n int, trace []string) (*State, []string) {
	trace = append(trace, fmt.Sprintf("%4d %s", n, s.text(mv)))
	c := s.apply(mv)
	if c == nil {
		return nil, append(trace, "        (nothing happened: the timer never fires)")
	}
	for i := range c.reps {
		if !c.reps[i].st.Equal(s.reps[i].st) || c.reps[i].life != s.reps[i].life {
			before, after := s.repLine(i), c.repLine(i)
			trace = append(trace, fmt.Sprintf("        %s → %s", before, after[strings.Index(after, " ")+1:]))
		}
	}
	var sent []string
	for _, key := range c.net {
		if _, ok := s.find(key); !ok {
			sent = append(sent, msgText(c.msg(key)))
		}
	}
	slices.Sort(sent)
	if len(sent) > 0 {
		trace = append(trace, "        sent "+strings.Join(sent, ", "))
	}
	if c.failure != nil {
		trace = append(trace, fmt.Sprintf("        FAIL %s: %s", c.failure.Check, c.failure.Msg))
	}
	return c, trace
}

// begin makes the root state and runs the prefix. A prefix move that is not
// possible, or that fails a check, fails the search.
func begin(cfg *Config) (*State, []string, *Failure) {
	cfg.searching = false
	defer func() { cfg.searching = true }()
	s := newRoot(cfg)
	var trace []string
	for i, text := range cfg.Prefix {
		mv, err := s.parse(text)
		if err != nil {
			return nil, trace, &Failure{Check: "prefix", Msg: fmt.Sprintf("prefix move %d: %v (state: %s)", i+1, err, s.Describe()), Moves: cfg.Prefix[:i+1]}
		}
		c, tr := traceStep(s, mv, i+1, trace)
		trace = tr
		if c == nil {
			return nil, trace, &Failure{Check: "prefix", Msg: fmt.Sprintf("prefix move %d (%s) did nothing (state: %s)", i+1, text, s.Describe()), Moves: cfg.Prefix[:i+1]}
		}
		if c.failure != nil {
			f := c.failure
			f.Moves = cfg.Prefix[:i+1]
			return nil, trace, f
		}
		s = c
	}
	return s, trace, nil
}

// finish fills in a failure's moves and trace: the prefix and path run again
// from the start.
func finish(cfg *Config, f *Failure, path []Move) {
	s, trace, _ := begin(cfg)
	f.Moves = slices.Clone(cfg.Prefix)
	for i, mv := range path {
		f.Moves = append(f.Moves, s.text(mv))
		var c *State
		c, trace = traceStep(s, mv, len(cfg.Prefix)+i+1, trace)
		if c == nil {
			break
		}
		s = c
	}
	f.Trace = trace
}

// texts names the moves of path, run from the start.
func texts(cfg *Config, path []Move) []string {
	s, _, _ := begin(cfg)
	var out []string
	for _, mv := range path {
		out = append(out, s.text(mv))
		if s = s.apply(mv); s == nil {
			break
		}
	}
	return out
}

// ParseMoves splits a replay string: moves separated by ";" or new lines.
func ParseMoves(s string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' }) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// Replay runs moves (after cfg's prefix) from the start, checking every
// state as the search does, and returns the trace and the failure, if any.
// It is how a failing search's trace is run again, on its own, to debug.
func Replay(cfg Config, moves []string) ([]string, *Failure) {
	cfg.defaults()
	all := append(slices.Clone(cfg.Prefix), moves...)
	cfg.Prefix = all
	_, trace, f := begin(&cfg)
	return trace, f
}

// Report formats a failure for a test log: what failed, the shortest trace,
// and how to replay it (replay: the command, or "" for none).
func (f *Failure) Report(replay string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "search: %s: %s\n", f.Check, f.Msg)
	if len(f.Trace) > 0 {
		fmt.Fprintf(&b, "shortest trace (%d moves):\n%s\n", len(f.Moves), strings.Join(f.Trace, "\n"))
	}
	if replay != "" && len(f.Moves) > 0 {
		fmt.Fprintf(&b, "replay: %s\n", replay)
	}
	return b.String()
}
