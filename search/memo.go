package search

import "vrlab/vr"

// The memo of the moves run from each rep.
//
// What a move does to the replica it steps (a message delivered, a timer
// fired, a crash and restart) depends on nothing but the rep: the replica,
// whose every field Clone copies and which draws its random numbers from its
// own generator; its service; its life; the rule checks' memory of it
// (svcFrom); and the move's input (a message, by its key, which hashes all of
// its fields). The same rep is in many states, since a move shares every
// replica it does not step with the state it starts from, and many states
// make the same move from the same rep. So the first such move runs the
// replica, and remembers in the rep where it led:
//
//   - the rep after the step: complete, never changed again, and from now on
//     shared by every state the move reaches;
//   - what the replica sent;
//   - what its service reported to the committed log (ops applied, a
//     checkpoint restored), in order.
//
// Every later state that makes the move takes the new rep from the memo,
// shows the committed log what the service did, and runs every check of the
// step (checkStep: the protocol rules, the committed log, the PREPAREOKs,
// the clients) in its own state, exactly as after running the replica: the
// states reached, and what is checked in each, are the same; only the
// replica's code, and the copy of the replica it needs, run once instead of
// many times. A move that fails a check is not remembered: it ends the
// search.
//
// This holds as long as a replica keeps all of its state in its fields,
// which Clone copies: the assumption Clone and Replay make already. A
// replica that read a package variable, the clock or the global random
// generator would make a search that cannot be replayed, memo or not.
//
// A rep's memo keeps the reps it leads to alive as long as the rep is, so a
// search holds more reps than states; they are small.

// trans is one move from a rep: where it led.
type trans struct {
	kind    Kind // Deliver (also for a Duplicate), Tick or Crash
	key     uint64
	prev    vr.State // the replica's state before the step, as the checks see it
	to      *rep     // after; nil: a tick whose timer never fires
	out     []vr.Message
	flights []flight // the messages of out that go in flight, in order
	events  []svcEvent
}

// svcEvent is one report of a service to the committed log during a step:
// op n (key) applied, or a checkpoint of op n restored, with the log hash
// after it.
type svcEvent struct {
	restore   bool
	n         int
	key, hash uint64
}

// noMemo turns the memo off: for the test that it changes nothing.
var noMemo bool

// recall returns the memo of move (kind, key) from p, or nil.
func (p *rep) recall(kind Kind, key uint64) *trans {
	if noMemo {
		return nil
	}
	for k := range p.memo {
		if t := &p.memo[k]; t.key == key && t.kind == kind {
			return t
		}
	}
	return nil
}

// remember records in src's memo the move (kind, key) that s just made from
// src, replica i's rep: the search's work says where it led.
func (s *State) remember(src *rep, i int, kind Kind, key uint64) {
	w := s.cfg.work()
	if s.failure != nil || s.reps[i] != w.last.to || noMemo {
		return
	}
	t := w.last
	t.kind, t.key = kind, key
	if len(w.events) > 0 {
		t.events = append([]svcEvent(nil), w.events...)
	}
	src.memo = append(src.memo, t)
}

// replay makes in s the move t remembers, for replica i (in: the message
// delivered, nil for a tick or crash), and checks it.
func (s *State) replay(i int, t *trans, in *vr.Message) {
	defer s.catch(i) // as when the step ran: a check may panic on what it sent
	s.reps[i] = t.to
	for _, e := range t.events {
		s.report(i, t.to.life, e)
	}
	s.finish(i, in, t.prev, t.to.st, t.out, t.flights)
}
