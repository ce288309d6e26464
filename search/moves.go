package search

import (
	"fmt"
	"runtime/debug"

	"vrlab/sim/check"
	"vrlab/vr"
)

// Kind is a kind of move.
type Kind uint8

const (
	Deliver   Kind = iota + 1 // deliver one copy of a message in flight
	Drop                      // lose one copy of a message in flight (Budget.Drops)
	Duplicate                 // deliver a copy and keep the message in flight (Budget.Dups)
	Tick                      // tick one replica until its timer fires (Budget.Ticks)
	Crash                     // crash a replica and restart it recovering (Budget.Crashes)
	Invoke                    // a client sends the next request of its script
	Resend                    // a client resends its outstanding request (Budget.Resends)
)

var kindNames = map[Kind]string{Deliver: "deliver", Drop: "drop", Duplicate: "dup", Tick: "tick", Crash: "crash", Invoke: "invoke", Resend: "resend"}

func (k Kind) String() string { return kindNames[k] }

// Move is one step of the search.
type Move struct {
	Kind Kind
	Node int    // Tick, Crash: the replica; Invoke, Resend: the client
	Msg  uint64 // Deliver, Drop, Duplicate: the message's key in flight
}

// maxMacroTicks bounds one Tick move: a timer that has not fired after this
// many ticks never will without a message.
func (cfg *Config) maxMacroTicks() int { return 16 * cfg.ViewChangeTicks * 2 }

// moves lists every move possible in s, in a fixed order.
func (s *State) moves(out []Move) []Move {
	cfg := s.cfg
	for _, key := range s.net {
		out = append(out, Move{Kind: Deliver, Msg: key})
		if int(s.used.Drops) < cfg.Budget.Drops {
			out = append(out, Move{Kind: Drop, Msg: key})
		}
		if int(s.used.Dups) < cfg.Budget.Dups {
			out = append(out, Move{Kind: Duplicate, Msg: key})
		}
	}
	for i := range s.reps {
		if int(s.used.Ticks) < cfg.Budget.Ticks && !cfg.frozen(i) {
			out = append(out, Move{Kind: Tick, Node: i})
		}
	}
	if int(s.used.Crashes) < cfg.Budget.Crashes {
		for i := range s.reps {
			if s.canCrash(i) {
				out = append(out, Move{Kind: Crash, Node: i})
			}
		}
	}
	for c, cl := range s.clients {
		if !cl.outstanding && int(cl.seq) < cfg.Requests {
			out = append(out, Move{Kind: Invoke, Node: c})
		}
		if cl.outstanding && int(s.used.Resends) < cfg.Budget.Resends {
			out = append(out, Move{Kind: Resend, Node: c})
		}
	}
	return out
}

// canCrash: at most f replicas may be without their state at once (crashed
// or still recovering); crashing one that is recovering changes nothing.
func (s *State) canCrash(i int) bool {
	if s.cfg.silent(i) {
		return false
	}
	down := 0
	for j, p := range s.reps {
		if j != i && p.st.Status == vr.Recovering {
			down++
		}
	}
	return down < s.cfg.f()
}

// apply returns the state after move mv, or nil if mv does nothing (a timer
// that never fires). A check that fails sets the result's failure.
//
// A move that steps a replica is run once for each rep and input: its
// result is then remembered in the rep's memo (memo.go), and the next state
// that makes the same move from the same rep takes the result from there,
// with every check run again on it, in that state.
func (s *State) apply(mv Move) *State {
	c := &State{}
	if !s.applyTo(c, mv) {
		return nil
	}
	return c
}

// applyTo is apply, building the next state in c (see childInto). It
// reports false if mv does nothing.
func (s *State) applyTo(c *State, mv Move) bool {
	s.childInto(c)
	switch mv.Kind {
	case Deliver, Drop, Duplicate:
		f, ok := c.take(mv.Msg)
		if !ok {
			return false
		}
		switch mv.Kind {
		case Drop:
			c.used.Drops++
			return true
		case Duplicate:
			c.used.Dups++
			c.put(f)
		}
		m := f.m // shared, never changed
		i := m.To
		if t := c.reps[i].recall(Deliver, mv.Msg); t != nil {
			c.replay(i, t, m)
			break
		}
		src := c.reps[i]
		p := c.own(i)
		if m.Type == vr.MsgStartViewChange {
			p.ownSVC()
			p.svcFrom[m.View] |= 1 << uint(m.From)
		}
		c.step(i, m)
		c.remember(src, i, Deliver, mv.Msg)
	case Tick:
		c.used.Ticks++
		i := mv.Node
		if t := c.reps[i].recall(Tick, 0); t != nil {
			if t.to == nil {
				return false
			}
			c.replay(i, t, nil)
			break
		}
		src := c.reps[i]
		if !c.tick(i) {
			if c.failure == nil && !noMemo {
				src.memo = append(src.memo, trans{kind: Tick}) // never fires
			}
			return false
		}
		c.remember(src, i, Tick, 0)
	case Crash:
		c.used.Crashes++
		i := mv.Node
		if t := c.reps[i].recall(Crash, 0); t != nil {
			c.replay(i, t, nil)
			break
		}
		src := c.reps[i]
		c.restart(i)
		c.remember(src, i, Crash, 0)
	case Invoke, Resend:
		cl := &c.clients[mv.Node]
		if mv.Kind == Invoke {
			cl.seq++
			cl.outstanding = true
		} else {
			c.used.Resends++
		}
		seq := int(cl.seq)
		c.send(vr.Message{Type: vr.MsgRequest, From: -1, To: int(cl.hint), ClientID: clientID(mv.Node), RequestNum: seq, Op: check.EncodeOp(check.OpKey(mv.Node, seq))})
	}
	if c.failure == nil {
		c.checkState()
	}
	return true
}

func clientID(c int) int64 { return int64(c + 1) }

// step delivers m to replica i (already owned) and checks the step.
func (s *State) step(i int, m *vr.Message) {
	p := s.reps[i]
	p.sm.s = s
	defer s.catch(i)
	if err := p.r.Step(*m); err != nil {
		s.fail("step", fmt.Sprintf("R%d rejected %v: %v", i, m, err))
		return
	}
	s.after(i, m)
}

// tick ticks replica i until it does something: sends a message or changes
// its status or view. One Tick move is then "this replica's timer fires",
// whatever its timeout: the search need not count the ticks in between, so
// it stays shallow. It reports whether the timer fired.
func (s *State) tick(i int) (fired bool) {
	p := s.own(i)
	p.sm.s = s
	defer s.catch(i)
	before := p.r.State()
	for k := 0; k < s.cfg.maxMacroTicks(); k++ {
		p.r.Tick()
		st := p.r.State()
		if !st.Equal(before) || s.hasOutbox(p) {
			s.after(i, nil)
			return true
		}
	}
	return false
}

// hasOutbox reports whether the replica queued anything; what it queued
// stays queued for after.
func (s *State) hasOutbox(p *rep) bool {
	out := p.r.Outbox()
	s.cfg.work().sent = out // (the replica's own outbox, given up by it)
	return len(out) > 0
}

// restart crashes replica i and starts its next life, recovering, with an
// empty service: nothing survives a crash. Messages in flight to it stay in
// flight and reach the new life.
func (s *State) restart(i int) {
	old := s.reps[i]
	life := old.life + 1
	sm := &service{s: s, replica: i, life: life}
	r, err := vr.NewReplica(i, len(s.reps), sm, s.cfg.options(i, life, true))
	if err != nil {
		s.fail("setup", fmt.Sprintf("NewReplica(%d): %v", i, err))
		return
	}
	p := &rep{r: r, sm: sm, life: life, svcFrom: map[int]uint32{}}
	s.reps[i] = p
	p.st = vr.State{Status: vr.Recovering} // its life starts here: nothing to go back from
	defer s.catch(i)
	s.after(i, nil)
}

func (s *State) catch(i int) {
	if p := recover(); p != nil {
		s.fail("panic", fmt.Sprintf("R%d panicked: %v\n%s", i, p, debug.Stack()))
	}
}

// after checks replica i after a step (in: the message delivered, nil for a
// tick or start) and puts what it sent in flight. What the step did is kept
// in the search's work, for the memo.
func (s *State) after(i int, in *vr.Message) {
	p := s.reps[i]
	p.sm.s = nil // the step is over: the rep is complete, and may be shared
	w := s.cfg.work()
	out := append(w.sent, p.r.Outbox()...)
	w.sent = nil
	prev, st := p.st, p.r.State()
	p.st = st
	p.fp = repFingerprint(p)
	w.last = trans{prev: prev, to: p, out: out, flights: s.cfg.flights(out)}
	s.finish(i, in, prev, st, out, w.last.flights)
}

// flights are the messages of out that go in flight (not to a client), each
// with its key.
func (cfg *Config) flights(out []vr.Message) []flight {
	var fs []flight
	for k := range out {
		if out[k].To != vr.ToClient {
			fs = append(fs, cfg.newFlight(&out[k]))
		}
	}
	return fs
}

// finish checks replica i's step from prev to st, which sent out (fs: the
// flights among them), and puts what it sent in flight.
func (s *State) finish(i int, in *vr.Message, prev, st vr.State, out []vr.Message, fs []flight) {
	s.checkStep(i, in, prev, st, out)
	j := 0 // fs[j] is the next of out in flight
	for k := range out {
		if s.failure != nil {
			return
		}
		if m := &out[k]; m.To == vr.ToClient {
			s.toClient(i, m)
			continue
		}
		s.put(fs[j])
		j++
	}
}

// toClient hands a reply to its client at once: replies are not in flight,
// since the client's own resends already model their loss and delay.
func (s *State) toClient(from int, m *vr.Message) {
	c := int(m.ClientID - 1)
	if c < 0 || c >= len(s.clients) {
		s.fail("client", fmt.Sprintf("R%d replied to unknown client %d: %v", from, m.ClientID, m))
		return
	}
	cl := &s.clients[c]
	switch m.Type {
	case vr.MsgReply:
		if m.RequestNum < 1 || m.RequestNum > int(cl.seq) {
			s.fail("client", fmt.Sprintf("client %d got a reply for request %d, which it never sent (latest %d)", c, m.RequestNum, cl.seq))
			return
		}
		n, ok := s.log.Reply(c, m.RequestNum, m)
		if !ok || m.RequestNum != int(cl.seq) || !cl.outstanding {
			return
		}
		cl.outstanding = false
		cl.hint = int32(from)
		if n > s.log.MaxCompleted {
			s.ownCheckState()
			s.log.MaxCompleted = n
		}
	case vr.MsgNotPrimary:
		if m.Primary >= 0 && m.Primary < len(s.reps) {
			cl.hint = int32(m.Primary)
		}
	default:
		s.fail("client", fmt.Sprintf("client %d got a %v", c, m.Type))
	}
}
