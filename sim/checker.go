package sim

import (
	"vrlab/vr"
)

// checker holds the canonical committed log and checks every observation
// of it against it:
//
//   - the canonical log: op-number → op, and the running hash after it. The
//     first observation of a committed op defines its entry: an Apply (only
//     committed ops are executed), a checkpoint, or the committed prefix of a
//     log carried by a message (ops up to the sender's commit-number, which
//     every correct replica holds exactly as committed). Every later
//     observation must agree: a committed op is never lost or changed.
//   - exactly once: an op (a client's request) sits at one op-number only.
//   - in order, once per life: each replica life applies op-numbers
//     1, 2, 3, … (or continues from a checkpoint), which counterSM counts, and
//     its count equals vr's executed op-number after every step.
//   - client replies: the result names the op-number and the log hash, which
//     must be the canonical ones for the client's op; and an op invoked
//     after another completed must sit after it (real-time order), so the
//     client-observed history is linearizable.
//   - at most one normal primary per view: one replica, in one life.
type checker struct {
	s      *Sim
	ops    []uint64 // op-number → op key; 0 = not yet known
	hashes []uint64 // op-number → log hash after it; 0 = not yet known
	where  map[uint64]int

	primaries map[int]uint64 // view → replica<<32 | life of its normal primary

	maxCompleted int // the highest op-number of a completed client request
}

func newChecker(s *Sim) checker {
	return checker{s: s, ops: []uint64{0}, hashes: []uint64{0}, where: map[uint64]int{}, primaries: map[int]uint64{}}
}

// committedMax is the highest op-number known committed.
func (ck *checker) committedMax() int { return len(ck.ops) - 1 }

func (ck *checker) grow(n int) {
	for len(ck.ops) <= n {
		ck.ops = append(ck.ops, 0)
		ck.hashes = append(ck.hashes, 0)
	}
}

// committed records that op key is committed at op-number n, as seen by what.
func (ck *checker) committed(n int, key uint64, what func() string) bool {
	ck.grow(n)
	switch prev := ck.ops[n]; {
	case prev == key:
		return true
	case prev != 0:
		ck.s.failf("agreement", "committed op %d changed: it was %s, now %s holds %s there", n, opName(prev), what(), opName(key))
		return false
	}
	if at, ok := ck.where[key]; ok {
		ck.s.failf("exactly-once", "%s committed twice: as op %d and, by %s, as op %d", opName(key), at, what(), n)
		return false
	}
	ck.ops[n] = key
	ck.where[key] = n
	return true
}

func (ck *checker) hashAt(n int, h uint64, what func() string) bool {
	ck.grow(n)
	if prev := ck.hashes[n]; prev == 0 {
		ck.hashes[n] = h
	} else if prev != h {
		ck.s.failf("agreement", "%s has log hash %016x after op %d; the canonical log has %016x", what(), h, n, prev)
		return false
	}
	return true
}

// applied is replica's life applying op-number n.
func (ck *checker) applied(replica, life, n int, key uint64, h uint64) {
	what := func() string { return ck.s.who(replica, life) + " executing it" }
	if ck.committed(n, key, what) {
		ck.hashAt(n, h, what)
	}
}

// restored is replica's life installing a checkpoint at op-number n.
func (ck *checker) restored(replica, life, n int, h uint64) {
	ck.hashAt(n, h, func() string { return ck.s.who(replica, life) + " restoring a checkpoint" })
}

// message checks the committed prefix of a log a replica sends: the ops up to
// the sender's commit-number (that it holds).
func (ck *checker) message(from int, m *vr.Message) {
	switch m.Type {
	case vr.MsgPrepare, vr.MsgDoViewChange, vr.MsgStartView, vr.MsgNewState, vr.MsgRecoveryResponse:
	default:
		return
	}
	if m.Checkpoint != nil {
		if n, h, ok := decodeResult(m.Checkpoint.State); ok && n == m.Checkpoint.OpNumber {
			ck.hashAt(n, h, func() string { return "the checkpoint in " + m.String() })
		} else {
			ck.s.failf("checkpoint", "%v carries a checkpoint whose state does not cover op %d", m, m.Checkpoint.OpNumber)
		}
	}
	end := min(m.CommitNumber, m.LogStart+len(m.Entries))
	for n := m.LogStart + 1; n <= end; n++ {
		e := &m.Entries[n-m.LogStart-1]
		if !ck.committed(n, decodeOp(e.Op), func() string { return m.String() }) {
			return
		}
	}
}

// primary records that replica's life is a normal primary of view.
func (ck *checker) primary(view, replica, life int) {
	id := uint64(replica)<<32 | uint64(life)
	if prev, ok := ck.primaries[view]; !ok {
		ck.primaries[view] = id
	} else if prev != id {
		ck.s.failf("one-primary", "two normal primaries of view %d: %s and %s", view, ck.s.who(int(prev>>32), int(prev&0xffffffff)), ck.s.who(replica, life))
	}
}

// reply checks a client's reply for request reqNum: its result must be the
// canonical op-number and log hash of that request's op.
func (ck *checker) reply(client, reqNum int, m *vr.Message) (int, bool) {
	n, h, ok := decodeResult(m.Result)
	key := opKey(client, reqNum)
	switch {
	case !ok:
		ck.s.failf("client", "client %d got a malformed result for request %d: %x", client, reqNum, m.Result)
		return 0, false
	case n < 1 || n > ck.committedMax() || ck.ops[n] == 0:
		ck.s.failf("client", "client %d got op-number %d for request %d (%s), which no replica committed", client, n, reqNum, opName(key))
		return 0, false
	case ck.ops[n] != key:
		ck.s.failf("client", "client %d was told its request %d (%s) is op %d, but op %d is %s", client, reqNum, opName(key), n, n, opName(ck.ops[n]))
		return 0, false
	case ck.hashes[n] != 0 && ck.hashes[n] != h:
		ck.s.failf("client", "client %d's reply for request %d (op %d) carries log hash %016x; the canonical log has %016x", client, reqNum, n, h, ck.hashes[n])
		return 0, false
	}
	return n, true
}

func opName(key uint64) string {
	return "c" + itoa(opClient(key)) + "." + itoa(opReqNum(key))
}
