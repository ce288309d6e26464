package sim

import (
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strconv"

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
	Extra string // vrsim flags that reproduce the run's configuration, e.g. " -part A"
}

func (f *Failure) Error() string {
	return fmt.Sprintf("seed %d: tick %d (%s phase): %s: %s\nreplay: %s", f.Seed, f.Tick, f.Phase, f.Check, f.Msg, f.Replay())
}

// Replay is the command that replays the failing seed with its trace.
func (f *Failure) Replay() string {
	return fmt.Sprintf("go run ./cmd/vrsim -seed %d -trace%s", f.Seed, f.Extra)
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
	Reconfigs    int // Part E: reconfigurations the administrator saw accepted
	Refused      int // Part E: its requests refused, as they had to be
	MaxEpoch     int // Part E: the highest epoch a replica reached
	Reads        int // reads completed (Part F)
	LeaseReads   int // of them, answered under a lease
	Isolated     int // Config.Failover: failovers passed from an isolated primary (liveness.go)
	Deafened     int // and from a deaf one, its inbound links cut
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
	st.Reconfigs += o.Reconfigs
	st.Refused += o.Refused
	st.MaxEpoch = max(st.MaxEpoch, o.MaxEpoch)
	st.Reads += o.Reads
	st.LeaseReads += o.LeaseReads
	st.Isolated += o.Isolated
	st.Deafened += o.Deafened
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

	// Events receives the run's structured events (events.go) as they
	// happen; nil: none, at no cost. Like Trace, it does not change the run.
	Events func(Event)
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

	// Its clock (clock.go): the fraction of a tick accumulated, in
	// millionths; the ticks this life has had; and (conformance) the tick of
	// this life's clock before which it promised no view change, by the
	// leases it granted.
	phase        int
	ticks        int
	promise      int
	lastSVCTicks int // with clock rates: lastSVC on its clock
}

// Sim is one simulated cluster.
type Sim struct {
	cfg      Config
	opts     Options
	rng      *rand.Rand
	now      int
	liveness bool
	healAt   int      // the tick the current liveness stage began
	failover failover // Config.Failover's stages (liveness.go)

	reps       []*replica
	rates      []int // clock rates (clock.go); nil: every replica ticks once a tick
	clients    []*client
	clientByID map[int64]*client
	net        network
	chk        *check.Log

	partUntil int // active partition ends at this tick; 0 = none

	okSent map[int][]int // check.ViewKey(epoch, view) → by replica, the highest PREPAREOK it sent in that view (any life)

	stats   Stats
	failure *Failure
	trace   func(string)
	h       uint64 // trace hash

	msgID int // the last message ID handed out (only with Options.Events)

	rc *reconfigs // Part E (reconfig.go); nil: no reconfigurations
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
	s.net.init(cfg.Replicas + cfg.Clients + adminNodes(cfg)) // Part E: the administrator is a client node after the others
	s.net.minDelay, s.net.maxDelay = cfg.MinDelay, cfg.MaxDelay
	s.net.longRate, s.net.longMax = cfg.LongDelayRate, max(cfg.LongDelayMax, cfg.MaxDelay)
	s.net.drop, s.net.dup = cfg.DropRate, cfg.DupRate
	if s.trace != nil {
		s.tracef("config  seed %d: %v", cfg.Seed, cfg)
	}
	s.initReconfig() // Part E
	s.rates = clockRates(cfg)
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
	s.addAdmin() // Part E
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
				s.tickClock(i)
			}
		}
		for _, c := range s.clients {
			if s.failure == nil {
				s.tickClient(c)
			}
		}
		if s.liveness && s.failure == nil && s.livenessDone() {
			s.stats.Ticks = s.now
			return
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
		Members:         s.cfg.Members, // Part E: nil, or the epoch-0 configuration
		LeaseTicks:      s.cfg.LeaseTicks,
	}
	if recovering && s.restartsAsStandby(i) {
		opts.Recovering = false // Part E: a standby had no state to lose
	}
	s.newLife(i, opts.Recovering)
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
		s.chk.PrimaryIn(sl.prev.Epoch, sl.prev.View, i, sl.life)
	}
	sl.svcFrom = map[int]uint32{}
	sl.lastSVC = s.now
	sl.ticks, sl.promise, sl.lastSVCTicks = 0, 0, 0
	if recovering {
		sl.promise = s.cfg.LeaseTicks // a restarted replica keeps the promises it may have made just before the crash
	}
	if recovering && s.trace != nil {
		s.tracef("restart R%d (life %d, recovering)", i, sl.life)
	}
	if s.opts.Events != nil {
		if recovering {
			s.emit(Event{Kind: EvRestart, Replica: i, Life: sl.life})
		}
		s.emit(Event{Kind: EvState, Replica: i, Life: sl.life, State: sl.prev})
	}
	s.mix(evRestart, i, sl.life, 0)
	s.after(i, nil)
}

func (s *Sim) tick(i int) {
	defer s.catch(i)
	s.reps[i].ticks++
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
	if s.opts.Events != nil && stateChanged(prev, st) {
		s.emit(Event{Kind: EvState, Replica: i, Life: sl.life, State: st})
	}
	if s.failure != nil {
		return
	}
	if s.rc != nil {
		if s.observeEpochs(i, in, prev, st, out); s.failure != nil {
			return
		}
	}
	// (Part E: the service does not see RECONFIGURATIONs.)
	if st.Executed != sl.sm.Count && !s.reconfigGap(sl.sm.Count, st.Executed) {
		s.failf("order", "%s reports op %d executed but its service applied %d ops", s.who(i, sl.life), st.Executed, sl.sm.Count)
		return
	}
	if check.ViewKey(st.Epoch, st.View) < check.ViewKey(prev.Epoch, prev.View) || st.CommitNumber < prev.CommitNumber || st.Executed < prev.Executed {
		s.failf("order", "%s went back: epoch %d→%d, view %d→%d, commit-number %d→%d, executed %d→%d", s.who(i, sl.life), prev.Epoch, st.Epoch, prev.View, st.View, prev.CommitNumber, st.CommitNumber, prev.Executed, st.Executed)
		return
	}
	if st.IsPrimary && (!prev.IsPrimary || prev.View != st.View || prev.Epoch != st.Epoch) {
		s.chk.PrimaryIn(st.Epoch, st.View, i, sl.life)
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
			sl.lastSVC, sl.lastSVCTicks = s.now, sl.ticks
		case vr.MsgPrepareOK:
			vk := check.ViewKey(m.Epoch, m.View)
			oks := s.okSent[vk]
			if oks == nil {
				oks = make([]int, s.cfg.Replicas)
				s.okSent[vk] = oks
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

// deliver hands a message that arrived to its node.
func (s *Sim) deliver(env *envelope) {
	if s.net.blocked(env.from, env.to) {
		s.mix(evCut, env.from, env.to, int(env.m.Type))
		if s.opts.Events != nil {
			s.emit(Event{Kind: EvDrop, ID: env.id, From: env.from, To: env.to, Why: LostCut})
		}
		return
	}
	m := &env.m
	if env.to >= s.cfg.Replicas {
		c := s.clients[env.to-s.cfg.Replicas]
		s.stats.Delivered++
		s.mix(evDeliver, env.from, env.to, int(m.Type), m.View, m.RequestNum)
		if s.opts.Events != nil {
			s.emit(Event{Kind: EvDeliver, ID: env.id, From: env.from, To: env.to})
		}
		s.onClientMessage(c, m)
		return
	}
	sl := s.reps[env.to]
	if !sl.up {
		s.mix(evLost, env.from, env.to, int(m.Type))
		if s.opts.Events != nil {
			s.emit(Event{Kind: EvDrop, ID: env.id, From: env.from, To: env.to, Why: LostDown})
		}
		return
	}
	s.stats.Delivered++
	s.mix(evDeliver, env.from, env.to, int(m.Type), m.View, m.OpNumber, m.CommitNumber, m.LogStart, len(m.Entries), m.RequestNum)
	if s.opts.Events != nil {
		s.emit(Event{Kind: EvDeliver, ID: env.id, From: env.from, To: env.to})
	}
	if s.trace != nil {
		s.tracef("deliver %s", s.envString(env.from, env.to, m))
	}
	if m.Type == vr.MsgPrepare {
		s.stats.Prepares++
		s.stats.PreparedOps += len(m.Entries)
	}
	if m.Type == vr.MsgStartViewChange {
		sl.svcFrom[check.ViewKey(m.Epoch, m.View)] |= 1 << uint(m.From)
	}
	if m.Type == vr.MsgEpochStarted && s.rc != nil {
		s.noteEpochStarted(env.to, m) // Part E
	}
	s.stepReplica(env.to, m)
}

// ---- faults ----

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
	if s.opts.Events != nil {
		s.emit(Event{Kind: EvFailure, Check: check, Desc: s.failure.Msg, Phase: phase})
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
