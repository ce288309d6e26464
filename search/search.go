package search

import (
	"fmt"
	"time"

	"vrlab/vr"
)

// Config is one search: the group, where to start, the bounds, what to ask.
type Config struct {
	Replicas int // 3 or 5
	Clients  int // each with a script of Requests requests, sent one at a time
	Requests int

	// Timing, in ticks (defaults 1 and 2): small, so that a Tick move (a
	// timer firing) covers few ticks and the states of timers are few.
	HeartbeatTicks, ViewChangeTicks int

	Budget Budget // at most this many moves of each bounded kind on any path
	Silent []int  // replicas that never tick, hear or crash once the prefix is done: gone quiet
	Frozen []int  // replicas whose timers never fire once the prefix is done (they still hear)

	// Prefix is a schedule given by hand, one move a line in the trace's
	// form ("tick R1", "deliver STARTVIEWCHANGE 1→2 v1 n0 k0"): the search
	// starts where it ends. Prefix moves use no budget.
	Prefix []string

	// Goal, if set, must hold in some state within the bounds, or the
	// search fails. GoalName says what it asks, for the failure message.
	Goal       func(*State) bool
	GoalName   string
	StopAtGoal bool // stop at the first state that reaches the goal

	// Invariant, if set, is checked in every state besides the built-in
	// checks; it returns "" or what is wrong.
	Invariant func(*State) string
	// Prune, if set, stops the search from going on from a state (it is
	// still checked): to keep to views, or ops, that the question needs.
	Prune func(*State) bool

	MaxDepth  int           // moves from the end of the prefix; 0: no bound
	MaxStates int           // distinct states; 0: no bound
	MaxTime   time.Duration // 0: no bound

	searching bool  // the prefix is done: Silent applies
	w         *work // see work
}

func (cfg *Config) f() int { return (cfg.Replicas - 1) / 2 }

func (cfg *Config) silent(i int) bool {
	if !cfg.searching {
		return false // the prefix may still use every replica
	}
	for _, j := range cfg.Silent {
		if i == j {
			return true
		}
	}
	return false
}

func (cfg *Config) frozen(i int) bool {
	if !cfg.searching {
		return false
	}
	for _, j := range cfg.Frozen {
		if i == j {
			return true
		}
	}
	return cfg.silent(i)
}

func (cfg *Config) options(i, life int, recovering bool) vr.Options {
	return vr.Options{
		Recovering:      recovering,
		Seed:            int64(1000*life + i + 1), // fixed: a trace replays exactly
		HeartbeatTicks:  cfg.HeartbeatTicks,
		ViewChangeTicks: cfg.ViewChangeTicks,
		MaxBatchOps:     1, // one PREPARE per request: fewer kinds of states
	}
}

func (cfg *Config) defaults() {
	if cfg.HeartbeatTicks == 0 {
		cfg.HeartbeatTicks = 1
	}
	if cfg.ViewChangeTicks == 0 {
		cfg.ViewChangeTicks = 2
	}
}

// Result is what a search found.
type Result struct {
	States    int           // distinct states reached (after the prefix)
	Moves     int           // moves tried (most reach a state already seen)
	Depth     int           // the deepest level explored
	Elapsed   time.Duration // time spent
	Exhausted bool          // every state within the depth bound was explored
	Stopped   string        // the bound that stopped the search early, if any
	GoalMoves []string      // the shortest path to the goal, if reached
	Failure   *Failure      // nil: every check passed (and the goal, if any, was reached)

	digest uint64 // the sum of the fingerprints of the states reached: for tests
}

// StatesPerSecond is the search's speed.
func (r *Result) StatesPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.States) / r.Elapsed.Seconds()
}

// visit is how the search reached a state: from which state, by which move.
// Only this is kept for states already explored; the trace of a failure is
// rebuilt from it by running the moves again.
type visit struct {
	parent uint64
	move   Move
}

// Run searches cfg's space breadth first.
func Run(cfg Config) *Result {
	cfg.defaults()
	start := time.Now()
	res := &Result{}
	root, prefixTrace, fail := begin(&cfg)
	if fail != nil {
		fail.Trace = prefixTrace
		res.Failure = fail
		return res
	}
	rootKey := root.Fingerprint()
	seen := newVisited()
	seen.add(rootKey, visit{})
	res.States, res.digest = 1, rootKey
	pathTo := func(key uint64, last *Move) []Move {
		var path []Move
		if last != nil {
			path = append(path, *last)
		}
		for key != rootKey {
			v := seen.get(key)
			path = append(path, v.move)
			key = v.parent
		}
		for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
			path[i], path[j] = path[j], path[i]
		}
		return path
	}
	goalFound := cfg.Goal != nil && cfg.Goal(root)
	if goalFound {
		res.GoalMoves = cfg.Prefix
	}
	frontier := []*State{root}
	var moves []Move
	scratch := &State{} // each move's state is built here; kept only if new
	for depth := 0; len(frontier) > 0 && (cfg.MaxDepth == 0 || depth < cfg.MaxDepth); depth++ {
		var next []*State
		res.Depth = depth + 1
		// The states of the last level are checked and counted, but never
		// explored: they need not be kept.
		last := cfg.MaxDepth > 0 && depth == cfg.MaxDepth-1
		for f, s := range frontier {
			frontier[f] = nil // done with it once its moves are: let it go
			key := s.Fingerprint()
			moves = s.moves(moves[:0])
			for _, mv := range moves {
				res.Moves++
				if !s.applyTo(scratch, mv) {
					continue
				}
				c := scratch
				if c.failure != nil {
					res.Elapsed = time.Since(start)
					res.Failure = c.failure
					finish(&cfg, res.Failure, pathTo(key, &mv))
					return res
				}
				ck := c.Fingerprint()
				if !seen.add(ck, visit{parent: key, move: mv}) {
					continue // reached already
				}
				if !last {
					c = c.keep()
				}
				res.States++
				res.digest += ck
				if !goalFound && cfg.Goal != nil && cfg.Goal(c) {
					goalFound = true
					res.GoalMoves = append(append([]string(nil), cfg.Prefix...), texts(&cfg, pathTo(ck, nil))...)
					if cfg.StopAtGoal {
						res.Elapsed = time.Since(start)
						res.Stopped = "goal reached"
						return res
					}
				}
				if (cfg.Prune == nil || !cfg.Prune(c)) && !last {
					next = append(next, c)
				}
				if cfg.MaxStates > 0 && res.States >= cfg.MaxStates {
					res.Stopped = fmt.Sprintf("state bound %d", cfg.MaxStates)
				} else if cfg.MaxTime > 0 && res.States%1024 == 0 && time.Since(start) > cfg.MaxTime {
					res.Stopped = fmt.Sprintf("time bound %v", cfg.MaxTime)
				}
				if res.Stopped != "" {
					return res.end(&cfg, start, goalFound)
				}
			}
		}
		frontier = next
	}
	res.Exhausted = true
	return res.end(&cfg, start, goalFound)
}

func (res *Result) end(cfg *Config, start time.Time, goalFound bool) *Result {
	res.Elapsed = time.Since(start)
	if cfg.Goal != nil && !goalFound {
		how := "the whole space within the bounds"
		if !res.Exhausted {
			how = "until stopped by the " + res.Stopped
		}
		res.Failure = &Failure{Check: "goal", Msg: fmt.Sprintf("expected some reachable state where %s; none of %d states reaches it (searched %s: depth %d, budget %+v)",
			cfg.GoalName, res.States, how, res.Depth, cfg.Budget)}
	}
	return res
}

// newRoot is the group at the start: every replica fresh in view 0.
func newRoot(cfg *Config) *State {
	s := &State{cfg: cfg, okSent: map[int][]int{}, commitView: []int{0}}
	cfg.work().cur = s
	s.log = newLog(s)
	for i := 0; i < cfg.Replicas; i++ {
		sm := &service{s: s, replica: i}
		r, err := vr.NewReplica(i, cfg.Replicas, sm, cfg.options(i, 0, false))
		if err != nil {
			panic(fmt.Sprintf("search: NewReplica(%d): %v", i, err))
		}
		p := &rep{r: r, sm: sm, svcFrom: map[int]uint32{}}
		p.st = r.State()
		s.reps = append(s.reps, p)
		if p.st.IsPrimary {
			s.log.Primary(p.st.View, i, 0)
		}
		for _, m := range r.Outbox() {
			s.send(m)
		}
		p.fp = repFingerprint(p)
	}
	for c := 0; c < cfg.Clients; c++ {
		s.clients = append(s.clients, client{})
	}
	s.ownLog, s.ownOK = true, true
	return s
}
