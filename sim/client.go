package sim

import (
	"vrlab/sim/check"
	"vrlab/vr"
)

// client is a simulated VR client, like vr.Client: it numbers its requests
// 1, 2, 3, … with at most one outstanding, sends each to the primary it
// believes in, follows NOTPRIMARY view hints a few hops, and when it hears
// nothing in time resends the same request to every replica.
type client struct {
	idx int
	id  int64

	seq         int  // the latest request-number
	outstanding bool // request seq awaits its reply
	invokedAt   int
	lastTry     int
	hint        int // the replica believed primary
	hops        int // hint hops since the last timeout
	nextAt      int // earliest tick of the next request
	minPos      int // linearizability: request seq must land after this op-number
	completed   int
	maxLatency  int
	admin       bool // Part E: the administrator, whose requests are RECONFIGURATIONs (reconfig.go)

	// Reads (Part F): whether request seq is a read, and which requests
	// were (replies to older ones still arrive).
	read  bool
	reads map[int]bool
}

func (s *Sim) node(c *client) int { return s.cfg.Replicas + c.idx }

func (s *Sim) tickClient(c *client) {
	if c.admin {
		s.tickAdmin(c)
		return
	}
	if !c.outstanding {
		if s.liveness || s.now < c.nextAt {
			return
		}
		s.invoke(c, s.cfg.ReadRatio > 0 && s.rng.Float64() < s.cfg.ReadRatio)
		return
	}
	if s.now-c.lastTry >= s.cfg.ClientTimeout {
		c.hops = 0
		for r := 0; r < s.cfg.Replicas; r++ {
			s.sendRequest(c, r)
		}
	}
}

// invoke makes client c, which has no request outstanding, issue its next
// one (a read if read) and send it to the replica it believes primary. The
// safety phase's clients call it when their think time is over; the
// liveness phase's deaf-primary stage calls it too (liveness.go), to give a
// deaf primary work.
func (s *Sim) invoke(c *client, read bool) {
	c.seq++
	c.outstanding = true
	c.invokedAt = s.now
	c.minPos = s.chk.MaxCompleted
	c.hops = 0
	c.read = read
	kind := ""
	if c.read {
		if c.reads == nil {
			c.reads = map[int]bool{}
		}
		c.reads[c.seq] = true
		kind = " read"
	}
	s.stats.Requests++
	if s.trace != nil {
		s.tracef("client  c%d invokes%s request %d (%s) at R%d", c.idx, kind, c.seq, check.OpName(check.OpKey(c.idx, c.seq)), c.hint)
	}
	s.mix(evInvoke, c.idx, c.seq, c.hint)
	if s.opts.Events != nil {
		s.emit(Event{Kind: EvInvoke, Client: c.idx, Request: c.seq, To: c.hint, From: s.node(c), Read: c.read})
	}
	s.sendRequest(c, c.hint)
}

func (s *Sim) sendRequest(c *client, to int) {
	c.lastTry = s.now
	s.send(s.node(c), to, vr.Message{Type: vr.MsgRequest, ClientID: c.id, RequestNum: c.seq, Op: check.EncodeOp(check.OpKey(c.idx, c.seq)), To: to, From: -1, ReadOnly: c.read})
}

// onClientMessage is a REPLY or NOTPRIMARY arriving at client c.
func (s *Sim) onClientMessage(c *client, m *vr.Message) {
	if c.admin {
		s.onAdminMessage(c, m)
		return
	}
	switch m.Type {
	case vr.MsgReply:
		if m.RequestNum < 1 || m.RequestNum > c.seq {
			s.failf("client", "client %d got a reply for request %d, which it never sent (latest %d)", c.idx, m.RequestNum, c.seq)
			return
		}
		n, lease, ok := s.checkReply(c, m)
		if !ok || m.RequestNum != c.seq || !c.outstanding {
			return
		}
		switch {
		case lease && n < c.minPos:
			s.failf("linearizability", "stale read: client %d's read %d was invoked after an op at op-number %d completed (or a read saw it), but R%d answered it under a lease from a state that holds only the ops up to %d", c.idx, c.seq, c.minPos, m.From, n)
			return
		case !lease && n <= c.minPos:
			s.failf("linearizability", "client %d's request %d was invoked after an op at op-number %d completed, but it was executed earlier, as op %d", c.idx, c.seq, c.minPos, n)
			return
		}
		if c.read {
			s.stats.Reads++
			if lease {
				s.stats.LeaseReads++
			}
		}
		c.outstanding = false
		c.completed++
		c.maxLatency = max(c.maxLatency, s.now-c.invokedAt)
		s.chk.MaxCompleted = max(s.chk.MaxCompleted, n)
		if m.From >= 0 && m.From < s.cfg.Replicas {
			c.hint = m.From
		}
		if s.cfg.ThinkMax > 0 {
			c.nextAt = s.now + s.rng.IntN(s.cfg.ThinkMax+1)
		}
		if s.trace != nil {
			if lease {
				s.tracef("client  c%d read %d done under a lease: state at op %d", c.idx, c.seq, n)
			} else {
				s.tracef("client  c%d request %d done: op %d", c.idx, c.seq, n)
			}
		}
		s.mix(evDone, c.idx, c.seq, n)
		if s.opts.Events != nil {
			s.emit(Event{Kind: EvReturn, Client: c.idx, Request: c.seq, OpNumber: n, Invoked: c.invokedAt, From: s.node(c), Read: c.read, Lease: lease})
		}
	case vr.MsgNotPrimary, vr.MsgNewEpoch: // (Part E: NEWEPOCH, from a replica of a newer epoch, says the same)
		if !c.outstanding || m.RequestNum != c.seq {
			return
		}
		next := m.Primary // the sender's idea of the primary (of its view)
		if next >= 0 && next < s.cfg.Replicas && next != c.hint && c.hops < s.cfg.Replicas {
			c.hint = next
			c.hops++
			s.sendRequest(c, next)
		}
	default:
		s.failf("client", "client %d got a %v", c.idx, m.Type)
	}
}

// checkReply checks a REPLY to client c against the canonical log and
// returns the op-number it names. A write's (or a read's that went through
// the log) is where its op executed; a read answered under a lease names
// the last op of the state it read (lease), which must be a committed
// prefix of the log.
func (s *Sim) checkReply(c *client, m *vr.Message) (n int, lease, ok bool) {
	if c.reads[m.RequestNum] {
		if n, _, dec := check.DecodeResult(m.Result); !dec || s.chk.Op(n) != check.OpKey(c.idx, m.RequestNum) {
			n, ok = s.chk.ReadReply(c.idx, m.RequestNum, m)
			return n, true, ok
		}
	}
	n, ok = s.chk.Reply(c.idx, m.RequestNum, m)
	return n, false, ok
}
