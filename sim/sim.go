package sim

import (
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"strings"

	"vrlab/sim/check"
	"vrlab/vr"
)

// Failure is a violated check, with what replays it.
type Failure struct {
	Seed  int64
	Tick  int
	Phase string // "safety" or "liveness"
	Check string // which checker: agreement, exactly-once, client, linearizability, one-primary, order, liveness, panic, conformance/…
	Msg   string
	Extra string // e.g. a mutation build's replay flags
}

func (f *Failure) Error() string {
	return fmt.Sprintf("seed %d: tick %d (%s phase): %s: %s\nreplay: %s", f.Seed, f.Tick, f.Phase, f.Check, f.Msg, f.Replay())
}

// Replay is the command that replays the failing seed with its trace.
func (f *Failure) Replay() string {
	tags := ""
	if strings.Contains(f.Extra, "-mutate") {
		tags = "-tags vrmutate "
	}
	return fmt.Sprintf("go run %s./cmd/vrsim -seed %d -trace%s", tags, f.Seed, f.Extra)
}

// Stats counts what a run did.
type Stats struct {
	Ticks        int // simulated ticks, both phases
	LivenessTook int // ticks from the heal to convergence
	LivenessUse  int // LivenessTook as a percentage of the run's bound (in a sweep: the highest)
	Requests     int // client requests issued
	Completed    int // client requests completed
	Committed    int // ops in the canonical committed log
	Delivered    int
	Prepares     int // PREPAREs delivered
	PreparedOps  int // ops they carried
	Dropped      int
	Duplicated   int
	LongDelays   int
	Crashes      int
	Partitions   int
	MaxView      int
	MaxLatency   int // ticks, the slowest client request
}

// Faults is the number of faults injected.
func (st Stats) Faults() int {
	return st.Dropped + st.Duplicated + st.LongDelays + st.Crashes + st.Partitions
}

func (st *Stats) add(o Stats) {
	st.Ticks += o.Ticks
	st.LivenessTook = max(st.LivenessTook, o.LivenessTook)
	st.LivenessUse = max(st.LivenessUse, o.LivenessUse)
	st.Requests += o.Requests
	st.Completed += o.Completed
	st.Committed += o.Committed
	st.Delivered += o.Delivered
	st.Prepares += o.Prepares
	st.PreparedOps += o.PreparedOps
	st.Dropped += o.Dropped
	st.Duplicated += o.Duplicated
	st.LongDelays += o.LongDelays
	st.Crashes += o.Crashes
	st.Partitions += o.Partitions
	st.MaxView = max(st.MaxView, o.MaxView)
	st.MaxLatency = max(st.MaxLatency, o.MaxLatency)
}

// Result is the outcome of one seed.
type Result struct {
	Config    Config
	Stats     Stats
	TraceHash uint64
	Failure   *Failure // nil: every check passed
}

// Options are the knobs of one run that are not drawn from the seed.
type Options struct {
	Trace   func(line string) // receives the event trace, one line per event; nil: none
	VRDebug bool              // with Trace: include the replicas' own debug events
	Extra   string            // appended to the replay command of a failure
}

// replica is one replica slot: the current life of replica i.
type replica struct {
	r     *vr.Replica
	sm    *counterSM
	life  int
	up    bool
	until int // crashed: the tick it restarts
	prev  vr.State

	// Conformance: the STARTVIEWCHANGEs this life received, by view, as a
	// bit set of senders; and the tick it last sent one.
	svcFrom map[int]uint32
	lastSVC int
}

// Sim is one simulated cluster.
type Sim struct {
	cfg      Config
	opts     Options
	rng      *rand.Rand
	now      int
	liveness bool
	healAt   int

	reps       []*replica
	clients    []*client
	clientByID map[int64]*client
	net        network
	chk        *check.Log

	partUntil int // active partition ends at this tick; 0 = none

	okSent map[int][]int // view → by replica, the highest PREPAREOK it sent in that view (any life)

	stats   Stats
	failure *Failure
	trace   func(string)
	h       uint64 // trace hash
}

// Run simulates cfg's seed to the end and reports the result.
func Run(cfg Config, opts Options) Result {
	s := newSim(cfg, opts)
	s.run()
	s.stats.Committed = s.chk.CommittedMax()
	for _, c := range s.clients {
		s.stats.Completed += c.completed
		s.stats.MaxLatency = max(s.stats.MaxLatency, c.maxLatency)
	}
	return Result{Config: cfg, Stats: s.stats, TraceHash: s.h, Failure: s.failure}
}

// RunSeed runs the configuration drawn from seed.
func RunSeed(seed int64, opts Options) Result { return Run(Draw(seed), opts) }

func newSim(cfg Config, opts Options) *Sim {
	s := &Sim{
		cfg:        cfg,
		opts:       opts,
		rng:        rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)),
		trace:      opts.Trace,
		clientByID: map[int64]*client{},
		okSent:     map[int][]int{},
		h:          0xcbf29ce484222325,
	}
	s.chk = check.NewLog(func(name, msg string) { s.failf(name, "%s", msg) }, s.who)
	s.net.init(cfg.Replicas + cfg.Clients)
	s.net.minDelay, s.net.maxDelay = cfg.MinDelay, cfg.MaxDelay
	s.net.longRate, s.net.longMax = cfg.LongDelayRate, max(cfg.LongDelayMax, cfg.MaxDelay)
	s.net.drop, s.net.dup = cfg.DropRate, cfg.DupRate
	if s.trace != nil {
		s.tracef("config  seed %d: %v", cfg.Seed, cfg)
	}
	for i := 0; i < cfg.Replicas; i++ {
		s.reps = append(s.reps, &replica{})
		s.start(i, false)
	}
	for i := 0; i < cfg.Clients; i++ {
		c := &client{idx: i, id: int64(s.rng.Uint64()>>2) + 1, hint: 0}
		for s.clientByID[c.id] != nil {
			c.id++
		}
		s.clients = append(s.clients, c)
		s.clientByID[c.id] = c
	}
	return s
}

func (s *Sim) run() { s.runUntil(nil) }

// runUntil runs to the end, or until stop (called once per tick) says so.
func (s *Sim) runUntil(stop func() bool) {
	for s.now = 1; s.failure == nil; s.now++ {
		if stop != nil && stop() {
			break
		}
		if !s.liveness && s.now > s.cfg.SafetyTicks {
			s.heal()
		}
		if !s.liveness {
			s.injectFaults()
		}
		s.deliverDue()
		for i := range s.reps {
			if s.failure != nil {
				break
			}
			if s.reps[i].up {
				s.tick(i)
			}
		}
		for _, c := range s.clients {
			if s.failure == nil {
				s.tickClient(c)
			}
		}
		if s.liveness && s.failure == nil {
			if s.converged() {
				s.stats.LivenessTook = s.now - s.healAt
				s.stats.LivenessUse = 100 * s.stats.LivenessTook / s.cfg.LivenessTicks
				if s.trace != nil {
					s.tracef("done    converged %d ticks after the heal: %d ops committed", s.now-s.healAt, s.chk.CommittedMax())
				}
				s.stats.Ticks = s.now
				return
			}
			if s.now-s.healAt > s.cfg.LivenessTicks {
				s.failf("liveness", "not converged %d ticks after the heal: %s", s.cfg.LivenessTicks, s.describe())
			}
		}
	}
	s.stats.Ticks = s.now
}

// ---- replicas ----

// start begins a life of replica i: the first (fresh) or a restart after a
// crash (recovering, with an empty service and a new seed).
func (s *Sim) start(i int, recovering bool) {
	sl := s.reps[i]
	if recovering {
		sl.life++
	}
	sl.sm = &counterSM{s: s, replica: i, life: sl.life}
	opts := vr.Options{
		Recovering:      recovering,
		CheckpointEvery: s.cfg.CheckpointEvery,
		Seed:            int64(s.rng.Uint64()>>1) | 1,
		HeartbeatTicks:  s.cfg.HeartbeatTicks,
		ViewChangeTicks: s.cfg.ViewChangeTicks,
		MaxBatchOps:     s.cfg.MaxBatchOps,
	}
	r, err := vr.NewReplica(i, s.cfg.Replicas, sl.sm, opts)
	if err != nil {
		s.failf("setup", "NewReplica(%d): %v", i, err)
		return
	}
	if s.trace != nil && s.opts.VRDebug {
		r.SetLogger(func(topic, format string, args ...any) {
			s.tracef("vr      %-8s %s", topic, fmt.Sprintf(format, args...))
		})
	}
	sl.r, sl.up = r, true
	sl.prev = r.State()
	if sl.prev.IsPrimary {
		s.chk.Primary(sl.prev.View, i, sl.life)
	}
	sl.svcFrom = map[int]uint32{}
	sl.lastSVC = s.now
	if recovering && s.trace != nil {
		s.tracef("restart R%d (life %d, recovering)", i, sl.life)
	}
	s.mix(evRestart, i, sl.life, 0)
	s.after(i, nil)
}

func (s *Sim) crash(i int) {
	sl := s.reps[i]
	sl.up = false
	sl.r, sl.sm = nil, nil
	sl.until = s.now + s.cfg.MinDown + s.rng.IntN(s.cfg.MaxDown-s.cfg.MinDown+1)
	s.stats.Crashes++
	if s.trace != nil {
		s.tracef("crash   R%d (life %d) until tick %d", i, sl.life, sl.until)
	}
	s.mix(evCrash, i, sl.life, sl.until)
}

func (s *Sim) tick(i int) {
	defer s.catch(i)
	s.reps[i].r.Tick()
	s.after(i, nil)
}

func (s *Sim) stepReplica(i int, m *vr.Message) {
	defer s.catch(i)
	if err := s.reps[i].r.Step(*m); err != nil {
		s.failf("step", "R%d rejected %v: %v", i, m, err)
		return
	}
	s.after(i, m)
}

func (s *Sim) catch(i int) {
	if p := recover(); p != nil {
		s.failf("panic", "%s panicked: %v\n%s", s.who(i, s.reps[i].life), p, debug.Stack())
	}
}

// after checks replica i's state after a step (in: the message, nil for a
// tick or start) and sends what it emitted.
func (s *Sim) after(i int, in *vr.Message) {
	sl := s.reps[i]
	if sl.r == nil {
		return
	}
	st := sl.r.State()
	prev := sl.prev
	sl.prev = st
	out := sl.r.Outbox()
	if s.failure != nil {
		return
	}
	if st.Executed != sl.sm.Count {
		s.failf("order", "%s reports op %d executed but its service applied %d ops", s.who(i, sl.life), st.Executed, sl.sm.Count)
		return
	}
	if st.View < prev.View || st.CommitNumber < prev.CommitNumber || st.Executed < prev.Executed {
		s.failf("order", "%s went back: view %d→%d, commit-number %d→%d, executed %d→%d", s.who(i, sl.life), prev.View, st.View, prev.CommitNumber, st.CommitNumber, prev.Executed, st.Executed)
		return
	}
	if st.IsPrimary && (!prev.IsPrimary || prev.View != st.View) {
		s.chk.Primary(st.View, i, sl.life)
		s.stats.MaxView = max(s.stats.MaxView, st.View)
	}
	if s.cfg.Conformance {
		s.conformance(i, in, prev, st, out)
	}
	for k := range out {
		if s.failure != nil {
			return
		}
		m := &out[k]
		s.chk.Message(m)
		switch m.Type {
		case vr.MsgStartViewChange:
			sl.lastSVC = s.now
		case vr.MsgPrepareOK:
			oks := s.okSent[m.View]
			if oks == nil {
				oks = make([]int, s.cfg.Replicas)
				s.okSent[m.View] = oks
			}
			oks[i] = max(oks[i], m.OpNumber)
		}
		if m.To == vr.ToClient {
			c := s.clientByID[m.ClientID]
			if c == nil {
				s.failf("client", "R%d replied to unknown client %d: %v", i, m.ClientID, m)
				return
			}
			s.send(i, s.node(c), *m)
		} else {
			s.send(i, m.To, *m)
		}
	}
}

// conformance checks what the protocol says a replica may do: the rules of
// package check, shared with the search, and the one about time.
func (s *Sim) conformance(i int, in *vr.Message, prev, st vr.State, out []vr.Message) {
	sl := s.reps[i]
	step := check.Step{Who: s.who(i, sl.life), Self: i, F: s.cfg.f(), In: in, Prev: prev, St: st, Out: out, SVCFrom: sl.svcFrom, OKSent: s.okSent}
	if name, msg := check.Rules(&step); name != "" {
		s.failf(name, "%s", msg)
		return
	}
	// §3 [fix]: a replica in view-change resends STARTVIEWCHANGE every
	// heartbeat interval.
	if st.Status == vr.ViewChange && s.now-sl.lastSVC > s.cfg.HeartbeatTicks {
		resent := false
		for k := range out {
			resent = resent || out[k].Type == vr.MsgStartViewChange
		}
		if !resent {
			s.failf("conformance/resend", "%s has been in view-change for view %d %d ticks without resending STARTVIEWCHANGE", step.Who, st.View, s.now-sl.lastSVC)
		}
	}
}

// deliver hands a message that arrived to its node.
func (s *Sim) deliver(env *envelope) {
	if s.net.blocked(env.from, env.to) {
		s.mix(evCut, env.from, env.to, int(env.m.Type))
		return
	}
	m := &env.m
	if env.to >= s.cfg.Replicas {
		c := s.clients[env.to-s.cfg.Replicas]
		s.stats.Delivered++
		s.mix(evDeliver, env.from, env.to, int(m.Type), m.View, m.RequestNum)
		s.onClientMessage(c, m)
		return
	}
	sl := s.reps[env.to]
	if !sl.up {
		s.mix(evLost, env.from, env.to, int(m.Type))
		return
	}
	s.stats.Delivered++
	s.mix(evDeliver, env.from, env.to, int(m.Type), m.View, m.OpNumber, m.CommitNumber, m.LogStart, len(m.Entries), m.RequestNum)
	if s.trace != nil {
		s.tracef("deliver %s", s.envString(env.from, env.to, m))
	}
	if m.Type == vr.MsgPrepare {
		s.stats.Prepares++
		s.stats.PreparedOps += len(m.Entries)
	}
	if m.Type == vr.MsgStartViewChange {
		sl.svcFrom[m.View] |= 1 << uint(m.From)
	}
	s.stepReplica(env.to, m)
}

// ---- faults ----

// down counts the replicas without their state: crashed, or restarted and
// still recovering. At most f may be down at once.
func (s *Sim) down() int {
	n := 0
	for _, sl := range s.reps {
		if !sl.up || sl.prev.Status == vr.Recovering {
			n++
		}
	}
	return n
}

func (s *Sim) injectFaults() {
	cfg := &s.cfg
	for i, sl := range s.reps {
		if !sl.up && s.now >= sl.until {
			s.start(i, true)
		}
	}
	if cfg.CrashRate > 0 && s.rng.Float64() < cfg.CrashRate {
		victim := -1
		if s.rng.Float64() < cfg.PrimaryCrashBias {
			victim = s.currentPrimary()
		}
		if victim < 0 {
			victim = s.rng.IntN(cfg.Replicas)
		}
		sl := s.reps[victim]
		if sl.up && (sl.prev.Status == vr.Recovering || s.down() < cfg.f()) {
			s.crash(victim)
		}
	}
	if s.partUntil > 0 && s.now >= s.partUntil {
		s.partUntil = 0
		s.net.healAll()
		if s.trace != nil {
			s.tracef("heal    partition ends")
		}
		s.mix(evHeal, 0, 0, 0)
	}
	if s.partUntil == 0 && cfg.PartitionRate > 0 && s.rng.Float64() < cfg.PartitionRate {
		s.partition()
	}
}

// currentPrimary is the replica that is normal primary in the highest view, or -1.
func (s *Sim) currentPrimary() int {
	best, view := -1, -1
	for i, sl := range s.reps {
		if sl.up && sl.prev.IsPrimary && sl.prev.View > view {
			best, view = i, sl.prev.View
		}
	}
	return best
}

// partition starts a partition of a random kind.
func (s *Sim) partition() {
	n, nodes := s.cfg.Replicas, s.net.nodes
	cut := func(a, b int) { s.net.cut[a*nodes+b] = true }
	var desc string
	switch kind := s.rng.IntN(4); kind {
	case 0: // symmetric split: a random side against the rest; clients join a side or reach both
		side := make([]bool, n)
		k := 1 + s.rng.IntN(n-1)
		for _, p := range s.rng.Perm(n)[:k] {
			side[p] = true
		}
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				if side[a] != side[b] {
					cut(a, b)
				}
			}
		}
		for c := n; c < nodes; c++ {
			if s.rng.IntN(2) == 0 {
				sc := s.rng.IntN(2) == 0
				for b := 0; b < n; b++ {
					if side[b] != sc {
						cut(c, b)
						cut(b, c)
					}
				}
			}
		}
		desc = fmt.Sprintf("split %v", side)
	case 1: // asymmetric: random one-way links down
		var links []string
		for len(links) == 0 {
			for a := 0; a < n; a++ {
				for b := 0; b < n; b++ {
					if a != b && s.rng.IntN(3) == 0 {
						cut(a, b)
						links = append(links, fmt.Sprintf("%d→%d", a, b))
					}
				}
			}
		}
		desc = "one-way " + strings.Join(links, " ")
	case 2: // one replica isolated from everyone, clients included (often the primary)
		r := -1
		if s.rng.IntN(2) == 0 {
			r = s.currentPrimary()
		}
		if r < 0 {
			r = s.rng.IntN(n)
		}
		for b := 0; b < nodes; b++ {
			if b != r {
				cut(r, b)
				cut(b, r)
			}
		}
		desc = fmt.Sprintf("isolate R%d", r)
	case 3: // one replica deaf or mute: it only sends, or only receives
		r := -1
		if s.rng.IntN(2) == 0 {
			r = s.currentPrimary()
		}
		if r < 0 {
			r = s.rng.IntN(n)
		}
		deaf := s.rng.IntN(2) == 0
		for b := 0; b < n; b++ {
			if b != r {
				if deaf {
					cut(b, r)
				} else {
					cut(r, b)
				}
			}
		}
		desc = fmt.Sprintf("R%d deaf=%v", r, deaf)
	}
	s.partUntil = s.now + s.cfg.MinPartition + s.rng.IntN(s.cfg.MaxPartition-s.cfg.MinPartition+1)
	s.stats.Partitions++
	if s.trace != nil {
		s.tracef("part    %s until tick %d", desc, s.partUntil)
	}
	s.mix(evPartition, s.partUntil, len(desc), 0)
}

// heal starts the liveness phase: every fault ends, crashed replicas restart,
// and clients only finish what they started.
func (s *Sim) heal() {
	s.liveness = true
	s.healAt = s.now
	s.partUntil = 0
	s.net.healAll()
	s.net.drop, s.net.dup, s.net.longRate = s.cfg.LivenessDropRate, 0, 0
	if s.trace != nil {
		s.tracef("heal    liveness phase: everything healed (loss %.2g); bound %d ticks", s.cfg.LivenessDropRate, s.cfg.LivenessTicks)
	}
	s.mix(evHeal, 1, 0, 0)
	for i, sl := range s.reps {
		if !sl.up {
			s.start(i, true)
		}
	}
}

// converged: no client waits, and every replica is normal in one view with
// every op it holds executed, and holds every committed op.
func (s *Sim) converged() bool {
	for _, c := range s.clients {
		if c.outstanding {
			return false
		}
	}
	first := s.reps[0].prev
	for _, sl := range s.reps {
		st := sl.prev
		if !sl.up || st.Status != vr.Normal || st.View != first.View ||
			st.OpNumber != first.OpNumber || st.Executed != st.OpNumber || st.CommitNumber != st.OpNumber {
			return false
		}
	}
	if first.OpNumber < s.chk.CommittedMax() {
		s.failf("agreement", "committed ops lost: every replica converged on op %d in view %d, but op %d was committed", first.OpNumber, first.View, s.chk.CommittedMax())
		return false
	}
	return true
}

// describe summarises the cluster for a failure message.
func (s *Sim) describe() string {
	var b strings.Builder
	for i, sl := range s.reps {
		if !sl.up {
			fmt.Fprintf(&b, "R%d down; ", i)
			continue
		}
		st := sl.prev
		fmt.Fprintf(&b, "R%d(life %d) %v v%d v'%d n%d k%d x%d ckpt%d; ", i, sl.life, st.Status, st.View, st.LastNormalView, st.OpNumber, st.CommitNumber, st.Executed, st.CheckpointOpNumber)
	}
	for _, c := range s.clients {
		if c.outstanding {
			fmt.Fprintf(&b, "c%d waits for request %d since tick %d; ", c.idx, c.seq, c.invokedAt)
		}
	}
	fmt.Fprintf(&b, "committed %d", s.chk.CommittedMax())
	return b.String()
}

// ---- failures, trace ----

func (s *Sim) failf(check, format string, args ...any) {
	if s.failure != nil {
		return
	}
	phase := "safety"
	if s.liveness {
		phase = "liveness"
	}
	s.failure = &Failure{Seed: s.cfg.Seed, Tick: s.now, Phase: phase, Check: check, Msg: fmt.Sprintf(format, args...), Extra: s.opts.Extra}
	if s.trace != nil {
		s.tracef("FAIL    %s: %s", check, s.failure.Msg)
	}
}

func (s *Sim) who(i, life int) string { return "R" + itoa(i) + " (life " + itoa(life) + ")" }

func (s *Sim) tracef(format string, args ...any) {
	s.trace(fmt.Sprintf("%7d ", s.now) + fmt.Sprintf(format, args...))
}

func (s *Sim) envString(from, to int, m *vr.Message) string {
	name := func(n int) string {
		if n < s.cfg.Replicas {
			return "R" + itoa(n)
		}
		return "c" + itoa(n-s.cfg.Replicas)
	}
	return name(from) + "→" + name(to) + " " + m.String()
}

// Trace events, mixed into the trace hash with their fields.
const (
	evDeliver = iota + 1
	evDrop
	evDup
	evCut
	evLost
	evCrash
	evRestart
	evPartition
	evHeal
	evInvoke
	evDone
)

// mix folds an event into the trace hash (FNV-1a over words). The hash
// covers every delivery, loss, fault and client event, in order, with the
// tick it happened in: two runs with equal hashes ran the same schedule.
func (s *Sim) mix(ev int, xs ...int) {
	h := s.h
	h = (h ^ uint64(ev)) * 0x100000001b3
	h = (h ^ uint64(s.now)) * 0x100000001b3
	for _, x := range xs {
		h = (h ^ uint64(x)) * 0x100000001b3
	}
	s.h = h
}

func itoa(i int) string { return strconv.Itoa(i) }
