package search

import (
	"fmt"
	"maps"
	"slices"

	"vrlab/sim/check"
	"vrlab/vr"
)

// State is one state of the group: what a search explores.
//
// States are copied on write: a successor shares with its parent every
// replica that the move did not touch, so a state costs about one replica.
// Nothing a State points to is changed once the state is complete (but for
// the reps' memos, memo.go, which only add what a move from the rep does).
type State struct {
	cfg     *Config
	reps    []*rep
	net     []uint64 // messages in flight, by key (sorted; work.msgs has them): a set
	clients []client

	// What the checks remember (ghost state, part of the fingerprint: the
	// same replicas with a different history may fail differently later).
	log        *check.Log
	okSent     map[int][]int // view → by replica, the highest PREPAREOK sent in it
	commitView []int         // op-number → view in which it was first seen committed

	// Fingerprints, once computed (0: not yet): of the state, and of the
	// parts of it that a move seldom changes, kept from the parent until
	// the move changes them.
	fp, logFP uint64
	okFP      uint64 // okSent's, for views from okMin on
	used      used   // faults and ticks used so far (not a fingerprint: here to pack with okMin)
	okMin     int32

	// Set while a move is applied.
	ownLog  bool // log and commitView are this state's own (copied)
	ownOK   bool // okSent is
	failure *Failure
}

// work is what a search uses while it applies a move: one for each search,
// reused by every move.
type work struct {
	msgs    map[uint64]*vr.Message  // every message sent, by key
	cur     *State                  // the state being built
	logFail func(check, msg string) // the committed logs' failures: cur's
	sent    []vr.Message            // what a ticked replica sent
	events  []svcEvent              // what the stepping replica's service reported (memo.go)
	last    trans                   // what the last step did (memo.go)
}

func (cfg *Config) work() *work {
	if cfg.w == nil {
		w := &work{msgs: map[uint64]*vr.Message{}}
		w.logFail = func(check, msg string) { w.cur.fail(check, msg) }
		cfg.w = w
	}
	return cfg.w
}

// rep is one replica slot: the current life of replica i.
type rep struct {
	r    *vr.Replica
	sm   *service
	life int
	st   vr.State // as of the end of the last move
	// svcFrom: the STARTVIEWCHANGEs this life received, by view, as a bit
	// set of senders (for the protocol rules). Shared with the rep this one
	// was copied from until a STARTVIEWCHANGE changes it.
	svcFrom map[int]uint32
	fp      uint64 // fingerprint of r, sm and svcFrom

	// memo: the moves already run from this rep, and where they led (memo.go).
	// It is the only part of a complete rep that changes.
	memo []trans
}

// The network is a set: a message sent while an identical one is in flight
// adds nothing (a resend of a STARTVIEWCHANGE that has not arrived yet,
// say). That a message may arrive twice is what the Duplicate move is for.
// A state holds the keys of the messages in flight; the messages are in
// the search's table (work.msgs), one for each key, shared by every state
// they are in flight in and never changed.

// flight is a message about to go in flight, with its key.
type flight struct {
	key uint64
	m   *vr.Message
}

// client is one client's position in its script.
type client struct {
	seq         int32 // the latest request-number sent
	hint        int32 // the replica it believes primary
	outstanding bool  // request seq awaits its reply
}

// Budget counts the moves of each bounded kind.
type Budget struct {
	Drops, Dups, Ticks, Crashes, Resends int
}

// used is a Budget used so far, in less room: every state holds one.
type used struct {
	Drops, Dups, Ticks, Crashes, Resends uint32
}

func (u used) budget() Budget {
	return Budget{int(u.Drops), int(u.Dups), int(u.Ticks), int(u.Crashes), int(u.Resends)}
}

// service is the replicated service of a search: the simulator's counter
// (ops applied, their running hash), reporting each op to the state's
// committed log.
type service struct {
	check.Counter
	s       *State // the state being built; set before each step
	replica int
	life    int
}

// The service is the replica's only way to reach the state around it: what
// it reports is recorded (work.events) for the memo of the step.

func (sv *service) Apply(op []byte) []byte {
	key, result := sv.Next(op)
	sv.s.report(sv.replica, sv.life, svcEvent{n: sv.Count, key: key, hash: sv.Hash})
	return result
}

func (sv *service) Restore(snap []byte) {
	if !sv.Counter.Restore(snap) {
		sv.s.fail("checkpoint", fmt.Sprintf("R%d restored a malformed snapshot", sv.replica))
		return
	}
	sv.s.report(sv.replica, sv.life, svcEvent{restore: true, n: sv.Count, hash: sv.Hash})
}

// report shows the committed log what replica's service did, and records it.
func (s *State) report(replica, life int, e svcEvent) {
	w := s.cfg.work()
	w.events = append(w.events, e)
	switch {
	case e.restore && !s.log.KnowsRestored(e.n, e.hash):
		s.ownCheckState()
		s.log.Restored(replica, life, e.n, e.hash)
	case !e.restore && !s.log.KnowsApplied(e.n, e.key, e.hash):
		s.ownCheckState()
		s.log.Applied(replica, life, e.n, e.key, e.hash)
	}
}

// childInto makes c a copy of s to apply one move to: it shares every
// replica and the check state until written. c's slices are reused: the
// search builds each new state in the same scratch State, and keeps (copies)
// only those it has not seen.
func (s *State) childInto(c *State) {
	*c = State{cfg: s.cfg, used: s.used, log: s.log, okSent: s.okSent, commitView: s.commitView,
		reps:    append(c.reps[:0], s.reps...),
		net:     append(c.net[:0], s.net...),
		clients: append(c.clients[:0], s.clients...),
		logFP:   s.logFP, okFP: s.okFP, okMin: s.okMin}
	w := s.cfg.work()
	w.cur, w.sent, w.events, w.last = c, nil, w.events[:0], trans{}
}

// keep returns a copy of c, a complete state built in scratch, that shares
// none of c's slices. The copy's replicas and clients are, in a small group,
// in the same allocation as the copy (a kept).
func (c *State) keep() *State {
	if len(c.reps) > len(kept{}.reps) || len(c.clients) > len(kept{}.clients) {
		k := *c
		k.reps, k.net, k.clients = slices.Clone(c.reps), slices.Clone(c.net), slices.Clone(c.clients)
		return &k
	}
	k := &kept{State: *c}
	n, m := copy(k.reps[:], c.reps), copy(k.clients[:], c.clients)
	k.State.reps, k.State.clients = k.reps[:n:n], k.clients[:m:m]
	k.net = slices.Clone(c.net)
	return &k.State
}

// kept is a kept State of a small group, with room for its replicas and
// clients.
type kept struct {
	State
	reps    [5]*rep
	clients [2]client
}

// own makes replica i this state's own copy before a move changes it. Its
// svcFrom is still shared: see ownSVC.
func (s *State) own(i int) *rep {
	old := s.reps[i]
	sm := *old.sm
	sm.s = s
	n := &rep{r: old.r.Clone(&sm), sm: &sm, life: old.life, st: old.st, svcFrom: old.svcFrom}
	s.reps[i] = n
	return n
}

// ownSVC makes p's svcFrom its own before it changes.
func (p *rep) ownSVC() {
	p.svcFrom = maps.Clone(p.svcFrom)
	if p.svcFrom == nil {
		p.svcFrom = map[int]uint32{}
	}
}

// ownCheckState makes the committed log this state's own before it changes.
// (Only before: a check that only reads it reads it shared.)
func (s *State) ownCheckState() {
	if s.ownLog {
		return
	}
	s.ownLog, s.logFP = true, 0
	s.log = s.log.Clone(s.cfg.work().logFail, who)
	s.commitView = slices.Clone(s.commitView)
}

// ownOKs makes the record of PREPAREOKs this state's own before it changes.
func (s *State) ownOKs() {
	if s.ownOK {
		return
	}
	s.ownOK, s.okFP = true, 0
	ok := make(map[int][]int, len(s.okSent))
	for v, a := range s.okSent {
		ok[v] = slices.Clone(a)
	}
	s.okSent = ok
}

// who names a replica's life in failure messages.
func who(replica, life int) string {
	if replica >= 0 && replica < len(whoNames) && life >= 0 && life < len(whoNames[replica]) {
		return whoNames[replica][life]
	}
	return fmt.Sprintf("R%d (life %d)", replica, life)
}

// whoNames: who's names of the first lives of the first replicas, made once
// (the checks of every step need one).
var whoNames = func() (names [8][4]string) {
	for i := range names {
		for life := range names[i] {
			names[i][life] = fmt.Sprintf("R%d (life %d)", i, life)
		}
	}
	return names
}()

// ---- the network ----

func (s *State) find(key uint64) (int, bool) { return slices.BinarySearch(s.net, key) }

// msg is the message of a key in flight.
func (s *State) msg(key uint64) *vr.Message { return s.cfg.work().msgs[key] }

// newFlight keys m, a message just sent, and enters it in the search's table.
func (cfg *Config) newFlight(m *vr.Message) flight {
	f := flight{key: msgKey(m), m: m}
	msgs := cfg.work().msgs
	if old, ok := msgs[f.key]; ok {
		f.m = old
	} else {
		msgs[f.key] = m
	}
	return f
}

// put adds f (from newFlight) to the messages in flight.
func (s *State) put(f flight) {
	if s.cfg.silent(f.m.To) {
		return // it would only be lost: a move that changes nothing else
	}
	if i, ok := s.find(f.key); !ok {
		s.net = slices.Insert(s.net, i, f.key)
	}
}

// send puts a new message in flight.
func (s *State) send(m vr.Message) { s.put(s.cfg.newFlight(&m)) }

// take removes the message with key from flight, and returns it.
func (s *State) take(key uint64) (flight, bool) {
	i, ok := s.find(key)
	if !ok {
		return flight{}, false
	}
	s.net = slices.Delete(s.net, i, i+1)
	return flight{key: key, m: s.msg(key)}, true
}

// ---- fingerprints ----

func mix(h, x uint64) uint64 { return check.Chain(h, x) }

// repFingerprint hashes a replica slot: the replica, its service, its life
// and the rule checks' memory of it.
func repFingerprint(p *rep) uint64 {
	h := mix(mix(mix(p.r.Fingerprint(), uint64(p.sm.Count)), p.sm.Hash), uint64(p.life))
	var sum uint64
	for v, b := range p.svcFrom {
		if v >= p.st.View { // older views can no longer matter to a rule
			sum += mix(mix(1, uint64(v)), uint64(b))
		}
	}
	return mix(h, sum)
}

// Fingerprint is the state's 64-bit hash: equal fingerprints, same state.
func (s *State) Fingerprint() uint64 {
	if s.fp == 0 {
		s.fp = s.fingerprint()
	}
	return s.fp
}

func (s *State) fingerprint() uint64 {
	h := uint64(0xcbf29ce484222325)
	for _, p := range s.reps {
		h = mix(h, p.fp)
	}
	for _, key := range s.net {
		h = mix(h, key)
	}
	for _, c := range s.clients {
		h = mix(mix(mix(h, uint64(c.seq)), uint64(c.hint)), b2u(c.outstanding))
	}
	u := s.used
	h = mix(mix(mix(mix(mix(h, uint64(u.Drops)), uint64(u.Dups)), uint64(u.Ticks)), uint64(u.Crashes)), uint64(u.Resends))
	if s.logFP == 0 {
		s.logFP = s.log.Fingerprint()
	}
	h = mix(h, s.logFP)
	minView := s.reps[0].st.View
	for _, p := range s.reps {
		minView = min(minView, p.st.View)
	}
	if s.okFP == 0 || int(s.okMin) != minView {
		s.okFP, s.okMin = okFingerprint(s.okSent, minView), int32(minView)
	}
	h = mix(h, s.okFP)
	for _, v := range s.commitView {
		h = mix(h, uint64(v))
	}
	return h
}

// okFingerprint hashes the PREPAREOKs sent in views from minView on: no
// replica can commit in an older view any more.
func okFingerprint(okSent map[int][]int, minView int) uint64 {
	var sum uint64
	for v, a := range okSent {
		if v < minView {
			continue
		}
		e := mix(1, uint64(v))
		for _, n := range a {
			e = mix(e, uint64(n))
		}
		sum += e
	}
	return sum
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// msgKey is a hash of every field of a message: its identity in flight.
func msgKey(m *vr.Message) uint64 {
	h := uint64(0x84222325cbf29ce4)
	for _, x := range []int{int(m.Type), m.From, m.To, m.Epoch, m.View, m.OpNumber, m.CommitNumber, m.LastNormalView, m.LogStart, m.Primary, m.RequestNum, len(m.Entries)} {
		h = mix(h, uint64(x))
	}
	h = mix(mix(h, m.Nonce), uint64(m.ClientID))
	h = mix(mix(h, bytesHash(m.Op)), bytesHash(m.Result))
	for i := range m.Entries {
		e := &m.Entries[i]
		h = mix(mix(mix(h, bytesHash(e.Op)), uint64(e.ClientID)), uint64(e.RequestNum))
		if e.Members != nil { // part E; mixed only when set, so older keys stay as they were
			h = mix(h, intsHash(e.Members))
		}
	}
	if m.SentAt != 0 || m.Grant || m.ReadOnly { // part F; zero without leases (the search runs without)
		h = mix(h, uint64(m.SentAt)<<2|b2u(m.Grant)<<1|b2u(m.ReadOnly))
	}
	if m.Members != nil || m.OldMembers != nil || m.Err != "" {
		h = mix(mix(mix(h, intsHash(m.Members)), intsHash(m.OldMembers)), bytesHash([]byte(m.Err)))
	}
	if cp := m.Checkpoint; cp != nil {
		h = mix(mix(h, uint64(cp.OpNumber)), bytesHash(cp.State))
		for _, r := range cp.ClientTable {
			h = mix(mix(mix(h, uint64(r.ClientID)), uint64(r.RequestNum)), bytesHash(r.Result))
		}
	}
	return h
}

func intsHash(xs []int) uint64 {
	h := uint64(len(xs)) + 1
	for _, x := range xs {
		h = mix(h, uint64(x))
	}
	return h
}

func bytesHash(b []byte) uint64 {
	h := uint64(len(b)) + 1
	for _, c := range b {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	return h
}

// ---- what a goal or an invariant may look at ----

// N is the number of replicas.
func (s *State) N() int { return len(s.reps) }

// Replica is replica i's state.
func (s *State) Replica(i int) vr.State { return s.reps[i].st }

// Life is how many times replica i was restarted.
func (s *State) Life(i int) int { return s.reps[i].life }

// Committed is the number of ops known committed.
func (s *State) Committed() int { return s.log.CommittedMax() }

// Done is how many requests client c completed.
func (s *State) Done(c int) int {
	cl := s.clients[c]
	if cl.outstanding {
		return int(cl.seq) - 1
	}
	return int(cl.seq)
}

// InFlight is the number of messages in flight.
func (s *State) InFlight() int { return len(s.net) }

// Used is the budget used so far.
func (s *State) Used() Budget { return s.used.budget() }
