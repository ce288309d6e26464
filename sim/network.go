package sim

import (
	"vrlab/vr"
)

// envelope is a message on the simulated wire between two nodes. Nodes
// 0..n-1 are the replicas, n..n+clients-1 the clients.
type envelope struct {
	from, to int
	m        vr.Message
	id       int // with Options.Events: the message's ID (events.go); else 0
}

// network is the simulated network: a timing wheel of maxDelaySpan slots, one
// per tick. Messages due in the same tick are delivered in a random order, so
// random delays reorder messages and equal delays do not keep their order.
// Loss and duplication are decided when a message is sent, partitions when
// it arrives (so a partition also cuts what is already in flight).
type network struct {
	wheel [maxDelaySpan][]envelope
	nodes int
	cut   []bool // cut[from*nodes+to]: the link from → to is down

	minDelay, maxDelay int
	longRate           float64
	longMax            int
	drop, dup          float64
	inFlight           int
	delivering         bool // deliverDue is running: a delay of 0 still arrives this tick
}

func (nw *network) init(nodes int) {
	nw.nodes = nodes
	nw.cut = make([]bool, nodes*nodes)
}

func (nw *network) blocked(from, to int) bool { return nw.cut[from*nw.nodes+to] }

func (nw *network) healAll() { clear(nw.cut) }

// send puts m on the wire from → to (or loses or duplicates it).
func (s *Sim) send(from, to int, m vr.Message) {
	nw := &s.net
	id := 0
	if s.opts.Events != nil {
		id = s.newMsgID()
		mc := m
		s.emit(Event{Kind: EvSend, ID: id, From: from, To: to, Msg: &mc})
	}
	if nw.drop > 0 && s.rng.Float64() < nw.drop {
		s.stats.Dropped++
		if s.trace != nil {
			s.tracef("drop    %s", s.envString(from, to, &m))
		}
		s.mix(evDrop, from, to, int(m.Type))
		if s.opts.Events != nil {
			s.emit(Event{Kind: EvDrop, ID: id, From: from, To: to, Why: LostLoss})
		}
		return
	}
	s.enqueue(from, to, m, id)
	if nw.dup > 0 && s.rng.Float64() < nw.dup {
		s.stats.Duplicated++
		s.mix(evDup, from, to, int(m.Type))
		dupID := 0
		if s.opts.Events != nil {
			dupID = s.newMsgID()
			mc := m
			s.emit(Event{Kind: EvDuplicate, ID: dupID, Orig: id, From: from, To: to, Msg: &mc})
		}
		s.enqueue(from, to, m, dupID)
	}
}

func (s *Sim) enqueue(from, to int, m vr.Message, id int) {
	nw := &s.net
	d := nw.minDelay
	if nw.longRate > 0 && s.rng.Float64() < nw.longRate {
		d = nw.maxDelay + s.rng.IntN(nw.longMax-nw.maxDelay+1)
		s.stats.LongDelays++
	} else if nw.maxDelay > nw.minDelay {
		d += s.rng.IntN(nw.maxDelay - nw.minDelay + 1)
	}
	if !nw.delivering {
		d = max(d, 1) // this tick's deliveries are over: the earliest is the next tick
	}
	d = min(d, maxDelaySpan-1)
	slot := (s.now + d) % maxDelaySpan
	nw.wheel[slot] = append(nw.wheel[slot], envelope{from: from, to: to, m: m, id: id})
	nw.inFlight++
}

// deliverDue delivers every message due now, in random order. A message sent
// with delay 0 while delivering is delivered in this tick too.
func (s *Sim) deliverDue() {
	nw := &s.net
	slot := s.now % maxDelaySpan
	nw.delivering = true
	defer func() { nw.delivering = false }()
	for len(nw.wheel[slot]) > 0 && s.failure == nil {
		b := nw.wheel[slot]
		i := s.rng.IntN(len(b))
		env := b[i]
		last := len(b) - 1
		b[i] = b[last]
		b[last] = envelope{}
		nw.wheel[slot] = b[:last]
		nw.inFlight--
		s.deliver(&env)
	}
}
