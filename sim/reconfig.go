package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"vrlab/sim/check"
	"vrlab/vr"
)

// Reconfiguration (Part E, VR-PROTOCOL.md §8) in the simulator.
//
// A seed with reconfigurations (WithReconfig; ForPart("E")) runs more
// replicas than its epoch-0 configuration holds: Config.Replicas counts
// every peer, Config.Members is the epoch-0 configuration, and the others
// start as standbys. One more client, the administrator, asks for a new
// configuration now and then (Config.ReconfigRate per tick while it has no
// request outstanding), drawn from the configuration it knows and the
// standby pool: add a replica, remove one (often one that is down: a
// machine lost for good), replace one (often the primary), change f (3 ↔ 5),
// replace them all; now and then a request the group must refuse (the same
// set of members, reordered; an epoch that has ended). It waits for the
// answer, resending like a client, and the liveness stage waits for it too:
// a reconfiguration in flight at the heal must complete.
//
// Crashes keep within what VR tolerates, per configuration (mayCrash): at
// most f of the newest epoch's members lost (crashed or recovering), of the
// previous epoch's until f'+1 new members hold the state, and of a requested
// configuration's. A crashed replica restarts recovering, except one outside
// the epoch-0 configuration that never held any state: it restarts as the
// fresh standby it was.
//
// The checks (package check, epochs.go): every replica and every
// STARTEPOCH/NEWEPOCH agree on what each epoch is (its start and its
// configuration), and the canonical op at an epoch's start is its
// RECONFIGURATION; RECONFIGURATIONs are in the canonical log like any op
// (agreement, exactly-once); at most one primary per (epoch, view); a
// replica in epoch e executes nothing past the RECONFIGURATION that ends e,
// and no log of epoch e holds an op after it; and the protocol rules of
// check.EpochRules (normal only as a member holding the epoch's state;
// standbys and joining members send nothing but answers; a leaving replica
// stops only after f'+1 EPOCHSTARTED; epochs move only by executing the
// RECONFIGURATION or by a STARTEPOCH/NEWEPOCH of that epoch), with three
// that need the simulator's memory (reconfigRules): a primary takes a
// RECONFIGURATION only once the ops it inherited are committed; a second
// one, sent to a primary the moment it has prepared one (the probe), is
// refused; a member that becomes normal in a new epoch sends EPOCHSTARTED to
// the leaving replicas. The administrator checks its answers: a valid
// request of the current epoch is never refused, an invalid one never
// accepted, and an accepted one's epoch exists with its configuration.

// WithReconfig turns reconfigurations on in c (the seed's own draw, from a
// stream of its own, so the rest of c stays as drawn): its Replicas become
// the epoch-0 configuration, in a random order, among 1–3 more standbys.
func WithReconfig(c *Config) {
	if c.Members != nil {
		return
	}
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0xe9))
	peers := c.Replicas + 1 + r.IntN(3)
	c.Members = r.Perm(peers)[:c.Replicas]
	c.Replicas = peers
	c.ReconfigRate = []float64{0.002, 0.005, 0.01, 0.03}[r.IntN(4)]
	c.LivenessTicks = livenessBound(*c)
}

// NoReconfig undoes WithReconfig: the epoch-0 configuration is every peer.
func NoReconfig(c *Config) {
	if c.Members != nil {
		c.Replicas = len(c.Members)
	}
	c.Members, c.ReconfigRate = nil, 0
	c.LivenessTicks = livenessBound(*c)
}

// adminNodes is the number of administrator nodes on the wire: one with
// reconfigurations, after the clients.
func adminNodes(c Config) int {
	if c.ReconfigRate > 0 {
		return 1
	}
	return 0
}

// reconfigString is what String adds for reconfigurations.
func (c Config) reconfigString() string {
	if c.Members == nil {
		return ""
	}
	return fmt.Sprintf(" members=%v reconfig=%.3g", c.Members, c.ReconfigRate)
}

// reconfigs is the simulator's state of Part E.
type reconfigs struct {
	admin *client

	epoch    int    // the epoch the administrator knows
	members  []int  // its configuration
	target   []int  // the outstanding request's configuration
	reqEpoch int    // the epoch the outstanding request names
	expect   string // "": a valid request; else why the group must refuse it

	// By replica: the bit set of EPOCHSTARTED senders this life received
	// for epoch esEpoch.
	esEpoch []int
	esFrom  []uint32
	fresh   []bool // this life's start: register its epoch
	held    []bool // some life of the replica held an epoch's state
	// amnesiac: this life began recovering and has not held the newest
	// epoch's state since (see observeEpochs).
	amnesiac []bool
	// By replica, this life's: the op-number it last became normal at (a
	// primary's inherited log ends there), and the epoch it last became
	// normal in (+1; 0: none).
	viewStart []int
	normalIn  []int

	// The probe: a second RECONFIGURATION sent to a primary that has just
	// prepared one, in the same tick. It must be refused.
	probeSeq   int
	probeTo    int
	probeEpoch int
	probeView  int
}

// Trace events of reconfigurations (mixed into the trace hash).
const (
	evReconfig = iota + 101
	evReconfigDone
)

// initReconfig sets up Part E when the run has reconfigurations, before
// the replicas start: the epoch-0 configuration.
func (s *Sim) initReconfig() {
	if adminNodes(s.cfg) == 0 {
		return
	}
	n := s.cfg.Replicas
	s.rc = &reconfigs{members: slices.Clone(s.cfg.Members), esEpoch: make([]int, n), esFrom: make([]uint32, n), fresh: make([]bool, n), held: make([]bool, n), amnesiac: make([]bool, n),
		viewStart: make([]int, n), normalIn: make([]int, n), probeTo: -1}
	s.chk.Epoch(0, 0, s.cfg.Members, nil, func() string { return "the configuration" })
}

// addAdmin adds the administrator, a client after the others.
func (s *Sim) addAdmin() {
	if s.rc == nil {
		return
	}
	a := &client{idx: len(s.clients), id: int64(s.rng.Uint64()>>2) + 1, hint: s.cfg.Members[0], admin: true}
	for s.clientByID[a.id] != nil {
		a.id++
	}
	s.clients = append(s.clients, a)
	s.clientByID[a.id] = a
	s.rc.admin = a
}

// restartsAsStandby reports whether crashed replica i restarts as a fresh
// standby rather than recovering: outside the epoch-0 configuration, no
// life of it ever held an epoch's state (a standby, or a new member that
// never fetched it), so it has no promises to forget. (A removed replica
// that once held state restarts recovering: as a fresh standby it could
// rejoin an old epoch that names it, having forgotten what it promised.)
func (s *Sim) restartsAsStandby(i int) bool {
	return s.rc != nil && !s.rc.held[i] && !slices.Contains(s.cfg.Members, i)
}

// newLife resets what the epoch checks track of replica i's life.
func (s *Sim) newLife(i int, recovering bool) {
	if s.rc != nil {
		s.rc.esEpoch[i], s.rc.esFrom[i], s.rc.fresh[i] = 0, 0, true
		s.rc.amnesiac[i] = recovering
		s.rc.viewStart[i], s.rc.normalIn[i] = 0, 0
	}
}

// noteEpochStarted records an EPOCHSTARTED arriving at replica to.
func (s *Sim) noteEpochStarted(to int, m *vr.Message) {
	rc := s.rc
	if m.Epoch != s.reps[to].prev.Epoch {
		return
	}
	if rc.esEpoch[to] != m.Epoch {
		rc.esEpoch[to], rc.esFrom[to] = m.Epoch, 0
	}
	rc.esFrom[to] |= 1 << uint(m.From)
}

// observeEpochs is after()'s Part E: the epoch checks of one step of
// replica i.
func (s *Sim) observeEpochs(i int, in *vr.Message, prev, st vr.State, out []vr.Message) {
	rc, sl := s.rc, s.reps[i]
	who := func() string { return s.who(i, sl.life) }
	if st.Epoch != prev.Epoch || rc.fresh[i] {
		rc.fresh[i] = false
		if !s.chk.Epoch(st.Epoch, st.EpochStart, st.Members, nil, who) {
			return
		}
		s.stats.MaxEpoch = max(s.stats.MaxEpoch, st.Epoch)
		if s.trace != nil && st.Epoch != prev.Epoch {
			s.tracef("epoch   R%d (life %d) in epoch %d (from op %d) %v as %v%s", i, sl.life, st.Epoch, st.EpochStart, st.Members, st.Status, map[bool]string{true: ", retired", false: ""}[st.Retired])
		}
	}
	if holding(&st) {
		rc.held[i] = true
		// A life that began recovering stays lost until it is normal in the
		// newest epoch with no RECONFIGURATION possibly pending (as vr's
		// lostState): one that recovered with it pending, or left with it,
		// enters a later epoch by recovery.
		if st.Status == vr.Normal && st.Epoch == s.chk.MaxEpoch() && !(rc.admin != nil && rc.admin.outstanding && rc.reqEpoch == st.Epoch) {
			rc.amnesiac[i] = false
		}
	}
	s.chk.EpochState(who(), &st)
	for k := range out {
		if s.failure != nil {
			return
		}
		s.chk.EpochMessage(&out[k])
	}
	if s.failure != nil || !s.cfg.Conformance {
		return
	}
	bits := uint32(0)
	if rc.esEpoch[i] == st.Epoch {
		bits = rc.esFrom[i]
	}
	step := check.Step{Who: who(), Self: i, In: in, Prev: prev, St: st, Out: out}
	if name, msg := check.EpochRules(&step, bits); name != "" {
		s.failf(name, "%s", msg)
		return
	}
	s.reconfigRules(i, in, prev, st, out)
}

// reconfigRules are the rules of §8 that need what the simulator remembers
// of a replica's life.
func (s *Sim) reconfigRules(i int, in *vr.Message, prev, st vr.State, out []vr.Message) {
	rc, who := s.rc, s.who(i, s.reps[i].life)
	accepted := in != nil && in.Type == vr.MsgReconfiguration && st.IsPrimary && prev.IsPrimary &&
		st.Epoch == prev.Epoch && st.View == prev.View && st.OpNumber == prev.OpNumber+1
	// A primary takes a RECONFIGURATION only once the ops it inherited at
	// the start of its view are committed.
	if accepted && prev.CommitNumber < rc.viewStart[i] {
		s.failf("conformance/reconfig", "%s prepared a RECONFIGURATION as op %d with commit-number %d, before the ops it inherited at the start of view %d (up to op %d) were committed", who, st.OpNumber, prev.CommitNumber, st.View, rc.viewStart[i])
		return
	}
	// ... and no second one while it is in progress.
	if in != nil && in.Type == vr.MsgReconfiguration && in.RequestNum == rc.probeSeq && i == rc.probeTo {
		rc.probeTo = -1
		if prev.IsPrimary && prev.Epoch == rc.probeEpoch && prev.View == rc.probeView && st.OpNumber > prev.OpNumber {
			s.failf("conformance/reconfig", "%s accepted a second RECONFIGURATION (to %v) while the one it prepared in view %d of epoch %d is in progress", who, in.Members, st.View, st.Epoch)
			return
		}
	}
	if accepted && rc.probeTo < 0 && s.rng.IntN(2) == 0 {
		s.probeReconfig(i, st)
	}
	if st.Status == vr.Normal && (prev.Status != vr.Normal || prev.View != st.View || prev.Epoch != st.Epoch) {
		rc.viewStart[i] = st.OpNumber
	}
	// A member that becomes normal in a new epoch tells the leaving
	// replicas (EPOCHSTARTED), once.
	if st.Status == vr.Normal && st.Epoch > 0 && rc.normalIn[i] != st.Epoch+1 {
		rc.normalIn[i] = st.Epoch + 1
		for _, p := range s.chk.EpochMembers(st.Epoch - 1) {
			if p == i || slices.Contains(st.Members, p) {
				continue
			}
			if !slices.ContainsFunc(out, func(m vr.Message) bool { return m.Type == vr.MsgEpochStarted && m.To == p }) {
				s.failf("conformance/epochstarted", "%s became normal in epoch %d without sending EPOCHSTARTED to R%d, which leaves the group", who, st.Epoch, p)
				return
			}
		}
	}
}

// probeReconfig sends primary i, which has just prepared the
// administrator's RECONFIGURATION, a second one for the same epoch, to
// arrive in this tick (as from a second administrator; it shares the
// administrator's node and client-id, with a request-number far above its
// own).
func (s *Sim) probeReconfig(i int, st vr.State) {
	rc := s.rc
	t := s.drawValid(st.Members, s.outside(st.Members))
	if t == nil {
		return
	}
	rc.probeSeq, rc.probeTo, rc.probeEpoch, rc.probeView = rc.admin.seq+1<<30, i, st.Epoch, st.View
	m := vr.Message{Type: vr.MsgReconfiguration, ClientID: rc.admin.id, RequestNum: rc.probeSeq, Epoch: st.Epoch, Members: t, To: i, From: -1}
	if s.trace != nil {
		s.tracef("admin   probe: a second RECONFIGURATION to %v at R%d, which must refuse it", t, i)
	}
	s.mix(evReconfig, rc.probeSeq, st.Epoch, len(t), i)
	id := 0
	if s.opts.Events != nil {
		id = s.newMsgID()
		mc := m
		s.emit(Event{Kind: EvSend, ID: id, From: s.node(rc.admin), To: i, Msg: &mc})
	}
	slot := s.now % maxDelaySpan // this tick's deliveries, if they are under way; else the next tick's
	if !s.net.delivering {
		slot = (s.now + 1) % maxDelaySpan
	}
	s.net.wheel[slot] = append(s.net.wheel[slot], envelope{from: s.node(rc.admin), to: i, m: m, id: id})
	s.net.inFlight++
}

// reconfigGap reports whether every op in (from, to] is some epoch's
// RECONFIGURATION, which a replica executes without its service seeing it.
func (s *Sim) reconfigGap(from, to int) bool {
	if s.rc == nil || to < from {
		return false
	}
	n := 0
	for e := 1; e <= s.chk.MaxEpoch(); e++ {
		if start, ok := s.chk.EpochStart(e); ok && start > from && start <= to {
			n++
		}
	}
	return n == to-from
}

// opBefore is the op-number replica i executed last, which its service's
// next Apply follows (the service does not see RECONFIGURATIONs, so it
// cannot count them itself); count is the op-number the service applied
// last.
func (s *Sim) opBefore(i, count int) int {
	n := s.reps[i].r.State().Executed
	if n < count {
		s.failf("order", "%s applies op %d after op %d", s.who(i, s.reps[i].life), n+1, count)
	}
	return n
}

// ---- crashes ----

// lost reports whether replica i is without its state: crashed, or
// restarted recovering and not normal since (it may be a standby now, but
// it recovers when an epoch names it).
func (s *Sim) lost(i int) bool {
	sl := s.reps[i]
	return !sl.up || sl.prev.Status == vr.Recovering || s.rc.amnesiac[i]
}

// holds reports whether replica i holds the state of epoch e: a member in
// it that is not joining (its status says so), or a leaving replica
// serving it.
func (s *Sim) holds(i, e int) bool {
	sl := s.reps[i]
	return sl.up && sl.prev.Epoch == e && holding(&sl.prev)
}

// holding reports whether a replica in state st holds its epoch's state.
func holding(st *vr.State) bool {
	return st.Status == vr.Normal || st.Status == vr.ViewChange || st.Status == vr.StateTransfer ||
		(st.Status == vr.Transitioning && st.Retired)
}

// mayCrash reports whether replica v may crash now, within what VR
// tolerates: after it, at most f members lost (crashed or recovering) in
// the newest epoch's configuration, in the previous one's until f'+1 new
// members hold the state, and in a requested one's. (A new member that has
// not fetched the state yet is not lost: it needs one holder, not a quorum.
// But once crashed it restarts recovering, and recovery needs a quorum.)
// Every replica that executed the RECONFIGURATION may crash: the old
// members that hold its op then execute into the epoch when told of it.
func (s *Sim) mayCrash(v int) bool {
	if s.lost(v) {
		return true
	}
	within := func(members []int) bool {
		if !slices.Contains(members, v) {
			return true
		}
		n := 1
		for _, p := range members {
			if s.lost(p) {
				n++
			}
		}
		return n <= (len(members)-1)/2
	}
	e := s.chk.MaxEpoch()
	cur := s.chk.EpochMembers(e)
	if !within(cur) {
		return false
	}
	if e > 0 {
		held := 0
		for _, p := range cur {
			if s.holds(p, e) && slices.Contains(cur, p) {
				held++
			}
		}
		if held < len(cur)/2+1 && !within(s.chk.EpochMembers(e-1)) {
			return false
		}
	}
	if rc := s.rc; rc.admin.outstanding && rc.expect == "" && rc.reqEpoch == e && !within(rc.target) {
		return false
	}
	return true
}

// ---- the administrator ----

// tickAdmin is the administrator's tick: now and then a new request, and
// resends of an outstanding one.
func (s *Sim) tickAdmin(c *client) {
	if !c.outstanding {
		if s.liveness || s.now < c.nextAt || s.rng.Float64() >= s.cfg.ReconfigRate {
			return
		}
		s.startReconfig(c)
		return
	}
	if s.now-c.lastTry >= s.cfg.ClientTimeout {
		c.hops = 0
		for r := 0; r < s.cfg.Replicas; r++ {
			s.sendReconfig(c, r)
		}
	}
}

func (s *Sim) sendReconfig(c *client, to int) {
	rc := s.rc
	c.lastTry = s.now
	s.send(s.node(c), to, vr.Message{Type: vr.MsgReconfiguration, ClientID: c.id, RequestNum: c.seq, Epoch: rc.reqEpoch, Members: slices.Clone(rc.target), To: to, From: -1})
}

// startReconfig draws the administrator's next request and sends it.
func (s *Sim) startReconfig(c *client) {
	rc := s.rc
	target, expect := s.drawTarget()
	if target == nil {
		c.nextAt = s.now + s.cfg.ClientTimeout // nothing sensible to ask for now
		return
	}
	rc.target, rc.expect, rc.reqEpoch = target, expect, rc.epoch
	if expect == "stale epoch" {
		rc.reqEpoch = rc.epoch - 1
	}
	c.seq++
	c.outstanding = true
	c.invokedAt = s.now
	c.hops = 0
	if s.trace != nil {
		why := ""
		if expect != "" {
			why = " (must be refused: " + expect + ")"
		}
		s.tracef("admin   c%d request %d: RECONFIGURATION of epoch %d %v → %v%s, at R%d", c.idx, c.seq, rc.reqEpoch, rc.members, target, why, c.hint)
	}
	s.mix(evReconfig, c.seq, rc.reqEpoch, len(target), c.hint)
	s.sendReconfig(c, c.hint)
}

// drawTarget draws a configuration to ask for, from the one the
// administrator knows and the standby pool, and says why the group must
// refuse it ("" if it must not). nil: none now.
func (s *Sim) drawTarget() ([]int, string) {
	rc := s.rc
	cur := rc.members
	pool := s.outside(cur)
	switch x := s.rng.IntN(100); {
	case x < 3:
		t := slices.Clone(cur)
		s.rng.Shuffle(len(t), func(i, j int) { t[i], t[j] = t[j], t[i] })
		return t, "the same members"
	case x < 6 && rc.epoch > 0:
		if t := s.drawValid(cur, pool); t != nil {
			return t, "stale epoch"
		}
		return nil, ""
	}
	for try := 0; try < 5; try++ {
		if t := s.drawValid(cur, pool); t != nil && s.usable(t) {
			return t, ""
		}
	}
	return nil, ""
}

// outside lists the peers outside configuration members: the standby pool.
func (s *Sim) outside(members []int) []int {
	var pool []int
	for p := 0; p < s.cfg.Replicas; p++ {
		if !slices.Contains(members, p) {
			pool = append(pool, p)
		}
	}
	return pool
}

// drawValid draws a new configuration of 3–5 members: add, remove, replace
// one (often one that is down, or the primary), change f, or replace all.
func (s *Sim) drawValid(cur, pool []int) []int {
	pick := func(xs []int) int { return xs[s.rng.IntN(len(xs))] }
	without := func(xs []int, x int) []int {
		return slices.DeleteFunc(slices.Clone(xs), func(y int) bool { return y == x })
	}
	// victim: a member to remove, often one down or the primary.
	victim := func() int {
		if s.rng.IntN(2) == 0 {
			var down []int
			for _, p := range cur {
				if s.lost(p) {
					down = append(down, p)
				}
			}
			if len(down) > 0 {
				return pick(down)
			}
		}
		if p := s.currentPrimary(); p >= 0 && slices.Contains(cur, p) && s.rng.IntN(3) == 0 {
			return p
		}
		return pick(cur)
	}
	var t []int
	switch k := s.rng.IntN(5); {
	case k == 0 && len(cur) < 5 && len(pool) > 0: // add
		t = append(slices.Clone(cur), pick(pool))
	case k == 1 && len(cur) > 3: // remove
		t = without(cur, victim())
	case k == 2 && len(pool) > 0: // replace one
		t = append(without(cur, victim()), pick(pool))
	case k == 3 && len(cur) == 3 && len(pool) >= 2: // f 1 → 2
		p := slices.Clone(pool)
		s.rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		t = append(slices.Clone(cur), p[:2]...)
	case k == 3 && len(cur) == 5: // f 2 → 1
		t = without(cur, victim())
		t = without(t, pick(t))
	case k == 4 && len(pool) >= 3: // replace all
		p := slices.Clone(pool)
		s.rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		t = p[:min(len(p), max(len(cur), 3), 5)]
	default:
		return nil
	}
	s.rng.Shuffle(len(t), func(i, j int) { t[i], t[j] = t[j], t[i] })
	return t
}

// usable reports whether configuration t could run now: at most f of its
// members down (an administrator does not hand the group to dead machines).
func (s *Sim) usable(t []int) bool {
	down := 0
	for _, p := range t {
		if s.lost(p) {
			down++
		}
	}
	return down <= (len(t)-1)/2
}

// onAdminMessage is an answer arriving at the administrator.
func (s *Sim) onAdminMessage(c *client, m *vr.Message) {
	rc := s.rc
	switch m.Type {
	case vr.MsgReply:
		if m.RequestNum != c.seq || !c.outstanding {
			return
		}
		if m.Err != "" {
			switch {
			case m.Epoch < rc.reqEpoch:
				return // a stale replica of an ended epoch: the group's answer is still to come
			case rc.expect == "":
				s.failf("reconfig", "R%d (epoch %d) refused the valid RECONFIGURATION request %d of epoch %d to %v: %s", m.From, m.Epoch, c.seq, rc.reqEpoch, rc.target, m.Err)
				return
			}
			s.stats.Refused++
			if m.Epoch >= rc.epoch && m.Members != nil {
				rc.epoch, rc.members = m.Epoch, slices.Clone(m.Members)
			}
		} else {
			e := rc.reqEpoch + 1
			if rc.expect != "" {
				s.failf("reconfig", "R%d (epoch %d) accepted RECONFIGURATION request %d of epoch %d to %v, which it must refuse: %s", m.From, m.Epoch, c.seq, rc.reqEpoch, rc.target, rc.expect)
				return
			}
			if m.Epoch < e || !slices.Equal(s.chk.EpochMembers(e), rc.target) {
				s.failf("reconfig", "R%d (epoch %d) answered RECONFIGURATION request %d of epoch %d to %v, but epoch %d's configuration is %v", m.From, m.Epoch, c.seq, rc.reqEpoch, rc.target, e, s.chk.EpochMembers(e))
				return
			}
			s.stats.Reconfigs++
			rc.epoch, rc.members = e, rc.target
		}
		c.outstanding = false
		c.hint = m.From
		c.nextAt = s.now + s.rng.IntN(s.cfg.ClientTimeout+1)
		if s.trace != nil {
			s.tracef("admin   c%d request %d done: %s; the administrator knows epoch %d %v", c.idx, c.seq, map[bool]string{true: "refused (" + m.Err + ")", false: "accepted"}[m.Err != ""], rc.epoch, rc.members)
		}
		s.mix(evReconfigDone, c.seq, rc.epoch, len(m.Err))
	case vr.MsgNotPrimary, vr.MsgNewEpoch:
		if !c.outstanding || m.RequestNum != c.seq || m.Epoch < rc.epoch {
			return
		}
		if next := m.Primary; next >= 0 && next < s.cfg.Replicas && next != c.hint && c.hops < s.cfg.Replicas {
			c.hint = next
			c.hops++
			s.sendReconfig(c, next)
		}
	default:
		s.failf("client", "the administrator got a %v", m.Type)
	}
}

// ---- liveness ----

// convergedEpochs is converged() with reconfigurations: no client (nor the
// administrator) waits; every member of the newest epoch is normal in one
// view of it with every op it holds executed, and every other replica has
// stopped (a standby).
func (s *Sim) convergedEpochs() bool {
	for _, c := range s.clients {
		if c.outstanding {
			return false
		}
	}
	e := s.chk.MaxEpoch()
	members := s.chk.EpochMembers(e)
	isolated := s.failover.apart()
	var first *vr.State
	for i, sl := range s.reps {
		if i == isolated {
			continue
		}
		st := &sl.prev
		if !sl.up {
			return false
		}
		if !slices.Contains(members, i) {
			if st.Status != vr.Standby {
				return false
			}
			continue
		}
		if first == nil {
			first = st
		}
		if st.Epoch != e || st.Status != vr.Normal || st.View != first.View ||
			st.OpNumber != first.OpNumber || st.Executed != st.OpNumber || st.CommitNumber != st.OpNumber {
			return false
		}
	}
	if first == nil || (isolated >= 0 && first.View <= s.failover.view) {
		return false
	}
	if first.OpNumber < s.chk.CommittedMax() {
		s.failf("agreement", "committed ops lost: every member converged on op %d in view %d of epoch %d, but op %d was committed", first.OpNumber, first.View, e, s.chk.CommittedMax())
		return false
	}
	return true
}
