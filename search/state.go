package search

import (
	"fmt"
	"slices"

	"vrlab/sim/check"
	"vrlab/vr"
)

// State is one state of the group: what a search explores.
//
// States are copied on write: a successor shares with its parent every
// replica that the move did not touch, so a state costs about one replica.
// Nothing a State points to is changed once the state is complete.
type State struct {
	cfg     *Config
	reps    []*rep
	net     []flight // messages in flight, by key: a multiset
	clients []client
	used    Budget // faults and ticks used so far

	// What the checks remember (ghost state, part of the fingerprint: the
	// same replicas with a different history may fail differently later).
	log        *check.Log
	okSent     map[int][]int // view → by replica, the highest PREPAREOK sent in it
	commitView []int         // op-number → view in which it was first seen committed

	// Set while a move is applied.
	failure *Failure
	ownLog  bool // log and commitView are this state's own (copied)
	ownOK   bool // okSent is
	sent    []vr.Message
}

// rep is one replica slot: the current life of replica i.
type rep struct {
	r    *vr.Replica
	sm   *service
	life int
	st   vr.State // as of the end of the last move
	// svcFrom: the STARTVIEWCHANGEs this life received, by view, as a bit
	// set of senders (for the protocol rules).
	svcFrom map[int]uint32
	fp      uint64 // fingerprint of r, sm and svcFrom
}

// flight is a message in flight. The network is a set: a message sent
// while an identical one is in flight adds nothing (a resend of a
// STARTVIEWCHANGE that has not arrived yet, say). That a message may arrive
// twice is what the Duplicate move is for. The message is shared by every
// state it is in flight in, and never changed.
type flight struct {
	key uint64
	m   *vr.Message
}

// client is one client's position in its script.
type client struct {
	seq         int  // the latest request-number sent
	outstanding bool // request seq awaits its reply
	hint        int  // the replica it believes primary
}

// Budget counts the moves of each bounded kind.
type Budget struct {
	Drops, Dups, Ticks, Crashes, Resends int
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

func (sv *service) Apply(op []byte) []byte {
	key, result := sv.Next(op)
	sv.s.ownCheckState()
	sv.s.log.Applied(sv.replica, sv.life, sv.Count, key, sv.Hash)
	return result
}

func (sv *service) Restore(snap []byte) {
	if !sv.Counter.Restore(snap) {
		sv.s.fail("checkpoint", fmt.Sprintf("R%d restored a malformed snapshot", sv.replica))
		return
	}
	sv.s.ownCheckState()
	sv.s.log.Restored(sv.replica, sv.life, sv.Count, sv.Hash)
}

// child returns a copy of s to apply one move to: it shares every replica
// and the check state until written.
func (s *State) child() *State {
	c := &State{cfg: s.cfg, used: s.used, log: s.log, okSent: s.okSent, commitView: s.commitView}
	c.reps = slices.Clone(s.reps)
	c.net = slices.Clone(s.net)
	c.clients = slices.Clone(s.clients)
	return c
}

// own makes replica i this state's own copy before a move changes it.
func (s *State) own(i int) *rep {
	old := s.reps[i]
	sm := *old.sm
	sm.s = s
	n := &rep{r: old.r.Clone(&sm), sm: &sm, life: old.life, st: old.st, svcFrom: make(map[int]uint32, len(old.svcFrom))}
	for v, b := range old.svcFrom {
		n.svcFrom[v] = b
	}
	s.reps[i] = n
	return n
}

// ownCheckState makes the committed log this state's own before it changes.
func (s *State) ownCheckState() {
	if s.ownLog {
		return
	}
	s.ownLog = true
	s.log = s.log.Clone(s.fail, who)
	s.commitView = slices.Clone(s.commitView)
}

// ownOKs makes the record of PREPAREOKs this state's own before it changes.
func (s *State) ownOKs() {
	if s.ownOK {
		return
	}
	s.ownOK = true
	ok := make(map[int][]int, len(s.okSent))
	for v, a := range s.okSent {
		ok[v] = slices.Clone(a)
	}
	s.okSent = ok
}

func who(replica, life int) string { return fmt.Sprintf("R%d (life %d)", replica, life) }

// ---- the network ----

func (s *State) find(key uint64) (int, bool) {
	return slices.BinarySearchFunc(s.net, key, func(f flight, k uint64) int {
		switch {
		case f.key < k:
			return -1
		case f.key > k:
			return 1
		}
		return 0
	})
}

// put adds m to the messages in flight.
func (s *State) put(m vr.Message) {
	if s.cfg.silent(m.To) {
		return // it would only be lost: a move that changes nothing else
	}
	key := msgKey(&m)
	if i, ok := s.find(key); !ok {
		s.net = slices.Insert(s.net, i, flight{key: key, m: &m})
	}
}

// take removes the message with key from flight, and returns it.
func (s *State) take(key uint64) (vr.Message, bool) {
	i, ok := s.find(key)
	if !ok {
		return vr.Message{}, false
	}
	m := *s.net[i].m
	s.net = slices.Delete(s.net, i, i+1)
	return m, true
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
	h := uint64(0xcbf29ce484222325)
	for _, p := range s.reps {
		h = mix(h, p.fp)
	}
	for _, f := range s.net {
		h = mix(h, f.key)
	}
	for _, c := range s.clients {
		h = mix(mix(mix(h, uint64(c.seq)), uint64(c.hint)), b2u(c.outstanding))
	}
	u := s.used
	h = mix(mix(mix(mix(mix(h, uint64(u.Drops)), uint64(u.Dups)), uint64(u.Ticks)), uint64(u.Crashes)), uint64(u.Resends))
	h = mix(h, s.log.Fingerprint())
	minView := s.reps[0].st.View
	for _, p := range s.reps {
		minView = min(minView, p.st.View)
	}
	var sum uint64
	for v, a := range s.okSent {
		if v < minView {
			continue // no replica can commit in that view any more
		}
		e := mix(1, uint64(v))
		for _, n := range a {
			e = mix(e, uint64(n))
		}
		sum += e
	}
	h = mix(h, sum)
	for _, v := range s.commitView {
		h = mix(h, uint64(v))
	}
	return h
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
	}
	if cp := m.Checkpoint; cp != nil {
		h = mix(mix(h, uint64(cp.OpNumber)), bytesHash(cp.State))
		for _, r := range cp.ClientTable {
			h = mix(mix(mix(h, uint64(r.ClientID)), uint64(r.RequestNum)), bytesHash(r.Result))
		}
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
		return cl.seq - 1
	}
	return cl.seq
}

// InFlight is the number of messages in flight.
func (s *State) InFlight() int { return len(s.net) }

// Used is the budget used so far.
func (s *State) Used() Budget { return s.used }
