package check

import (
	"strconv"

	"vrlab/vr"
)

// Log holds the canonical committed log and checks every observation of it
// against it:
//
//   - the canonical log: op-number → op, and the running hash after it. The
//     first observation of a committed op defines its entry: an Apply (only
//     committed ops are executed), a checkpoint, or the committed prefix of a
//     log carried by a message (ops up to the sender's commit-number, which
//     every correct replica holds exactly as committed). Every later
//     observation must agree: a committed op is never lost or changed.
//   - exactly once: an op (a client's request) sits at one op-number only.
//   - client replies: the result names the op-number and the log hash, which
//     must be the canonical ones for the client's op.
//   - at most one normal primary per view: one replica, in one life.
//
// (Per-life execution order is the driver's to check: it owns the services.)
type Log struct {
	fail func(check, msg string)
	who  func(replica, life int) string

	ops    []uint64 // op-number → op key; 0 = not yet known
	hashes []uint64 // op-number → log hash after it; 0 = not yet known
	where  map[uint64]int

	primaries map[int]uint64 // ViewKey(epoch, view) → replica<<32 | life of its normal primary

	epochs []epochInfo // Part E: by epoch, its start and configuration (epochs.go)

	// MaxCompleted is the highest op-number of a completed client request:
	// a request invoked later must land after it (real-time order).
	MaxCompleted int
}

// NewLog returns an empty log that reports violations to fail and names
// replica lives with who.
func NewLog(fail func(check, msg string), who func(replica, life int) string) *Log {
	return &Log{fail: fail, who: who, ops: []uint64{0}, hashes: []uint64{0}, where: map[uint64]int{}, primaries: map[int]uint64{}}
}

// Clone is a copy of l that reports to fail and who. The search keeps one
// Log per explored state: what was committed depends on the path taken.
func (l *Log) Clone(fail func(check, msg string), who func(replica, life int) string) *Log {
	c := &Log{fail: fail, who: who, MaxCompleted: l.MaxCompleted,
		ops: append([]uint64(nil), l.ops...), hashes: append([]uint64(nil), l.hashes...),
		where: make(map[uint64]int, len(l.where)), primaries: make(map[int]uint64, len(l.primaries)),
		epochs: append([]epochInfo(nil), l.epochs...)}
	for k, v := range l.where {
		c.where[k] = v
	}
	for k, v := range l.primaries {
		c.primaries[k] = v
	}
	return c
}

// Fingerprint hashes everything the checks remember, so the search tells
// apart two states whose replicas agree but whose histories committed
// different things. (where is a function of ops, so it is left out.)
func (l *Log) Fingerprint() uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := range l.ops {
		h = Chain(Chain(h, l.ops[i]), l.hashes[i])
	}
	h = Chain(h, uint64(l.MaxCompleted))
	var sum uint64 // the map's entries in any order: a sum of their hashes
	for v, id := range l.primaries {
		sum += Chain(Chain(0x9e3779b97f4a7c15, uint64(v)), id)
	}
	return Chain(h, sum)
}

// CommittedMax is the highest op-number known committed.
func (l *Log) CommittedMax() int { return len(l.ops) - 1 }

// Op is the key of committed op n; 0 if not known.
func (l *Log) Op(n int) uint64 {
	if n < 1 || n >= len(l.ops) {
		return 0
	}
	return l.ops[n]
}

func (l *Log) grow(n int) {
	for len(l.ops) <= n {
		l.ops = append(l.ops, 0)
		l.hashes = append(l.hashes, 0)
	}
}

func (l *Log) failf(check, msg string) bool {
	l.fail(check, msg)
	return false
}

// Committed records that op key is committed at op-number n, as seen by what.
func (l *Log) Committed(n int, key uint64, what func() string) bool {
	l.grow(n)
	switch prev := l.ops[n]; {
	case prev == key:
		return true
	case prev != 0:
		return l.failf("agreement", "committed op "+itoa(n)+" changed: it was "+OpName(prev)+", now "+what()+" holds "+OpName(key)+" there")
	}
	if at, ok := l.where[key]; ok {
		return l.failf("exactly-once", OpName(key)+" committed twice: as op "+itoa(at)+" and, by "+what()+", as op "+itoa(n))
	}
	l.ops[n] = key
	l.where[key] = n
	return l.committedEpochOp(n)
}

// HashAt records that the log hash after op n is h, as seen by what.
func (l *Log) HashAt(n int, h uint64, what func() string) bool {
	l.grow(n)
	if prev := l.hashes[n]; prev == 0 {
		l.hashes[n] = h
	} else if prev != h {
		return l.failf("agreement", what()+" has log hash "+hex(h)+" after op "+itoa(n)+"; the canonical log has "+hex(prev))
	}
	return true
}

// Applied is replica's life applying op-number n (key), with log hash h after it.
func (l *Log) Applied(replica, life, n int, key uint64, h uint64) {
	what := func() string { return l.who(replica, life) + " executing it" }
	if l.Committed(n, key, what) {
		l.HashAt(n, h, what)
	}
}

// Restored is replica's life installing a checkpoint at op-number n.
func (l *Log) Restored(replica, life, n int, h uint64) {
	l.HashAt(n, h, func() string { return l.who(replica, life) + " restoring a checkpoint" })
}

// Message checks the committed prefix of a log a replica sends: the ops up to
// the sender's commit-number (that it holds).
func (l *Log) Message(m *vr.Message) {
	if !CarriesLog(m.Type) {
		return
	}
	if m.Checkpoint != nil {
		if n, h, ok := DecodeResult(m.Checkpoint.State); ok && n == m.Checkpoint.OpNumber {
			l.HashAt(n, h, func() string { return "the checkpoint in " + m.String() })
		} else {
			l.failf("checkpoint", m.String()+" carries a checkpoint whose state does not cover op "+itoa(m.Checkpoint.OpNumber))
		}
	}
	end := min(m.CommitNumber, m.LogStart+len(m.Entries))
	for n := m.LogStart + 1; n <= end; n++ {
		e := &m.Entries[n-m.LogStart-1]
		if !l.Committed(n, EntryKey(e), func() string { return m.String() }) {
			return
		}
	}
}

// What the Log already knows. Each says that the call it names would change
// nothing and report nothing: a caller that keeps one Log per state (the
// search) copies its Log only for news.

// KnowsApplied: Applied(_, _, n, key, h) would change nothing.
func (l *Log) KnowsApplied(n int, key, h uint64) bool {
	return n >= 0 && n < len(l.ops) && l.ops[n] == key && l.hashes[n] == h
}

// KnowsRestored: Restored(_, _, n, h) would change nothing.
func (l *Log) KnowsRestored(n int, h uint64) bool {
	return n >= 0 && n < len(l.hashes) && l.hashes[n] == h
}

// KnowsMessage: Message(m) would change nothing (every committed op m
// carries, and its checkpoint's hash, are known, and agree).
func (l *Log) KnowsMessage(m *vr.Message) bool {
	if !CarriesLog(m.Type) {
		return true
	}
	if m.Checkpoint != nil {
		n, h, ok := DecodeResult(m.Checkpoint.State)
		if !ok || n != m.Checkpoint.OpNumber || !l.KnowsRestored(n, h) {
			return false
		}
	}
	end := min(m.CommitNumber, m.LogStart+len(m.Entries))
	if end > m.LogStart && (end >= len(l.ops) || m.LogStart < 0) {
		return false
	}
	for n := m.LogStart + 1; n <= end; n++ {
		if l.ops[n] != EntryKey(&m.Entries[n-m.LogStart-1]) {
			return false
		}
	}
	return true
}

// KnowsPrimary: Primary(view, replica, life) would change nothing. (Part
// E: PrimaryIn keys views by check.ViewKey, which is the view in epoch 0.)
func (l *Log) KnowsPrimary(view, replica, life int) bool {
	prev, ok := l.primaries[view]
	return ok && prev == uint64(replica)<<32|uint64(life)
}

// CarriesLog: messages of type t carry a log, or a piece of one, whose
// committed prefix Message checks.
func CarriesLog(t vr.MsgType) bool {
	switch t {
	case vr.MsgPrepare, vr.MsgDoViewChange, vr.MsgStartView, vr.MsgNewState, vr.MsgRecoveryResponse:
		return true
	}
	return false
}

// Primary records that replica's life is a normal primary of view (of
// epoch 0; PrimaryIn for any epoch).
func (l *Log) Primary(view, replica, life int) { l.PrimaryIn(0, view, replica, life) }

// Reply checks a client's reply for request reqNum: its result must be the
// canonical op-number and log hash of that request's op. It returns the
// op-number.
func (l *Log) Reply(client, reqNum int, m *vr.Message) (int, bool) {
	n, h, ok := DecodeResult(m.Result)
	key := OpKey(client, reqNum)
	c, s := "client "+itoa(client), " request "+itoa(reqNum)
	switch {
	case !ok:
		return 0, l.failf("client", c+" got a malformed result for"+s+": "+strconv.Quote(string(m.Result)))
	case n < 1 || n > l.CommittedMax() || l.ops[n] == 0:
		return 0, l.failf("client", c+" got op-number "+itoa(n)+" for"+s+" ("+OpName(key)+"), which no replica committed")
	case l.ops[n] != key:
		return 0, l.failf("client", c+" was told its"+s+" ("+OpName(key)+") is op "+itoa(n)+", but op "+itoa(n)+" is "+OpName(l.ops[n]))
	case l.hashes[n] != 0 && l.hashes[n] != h:
		return 0, l.failf("client", c+"'s reply for"+s+" (op "+itoa(n)+") carries log hash "+hex(h)+"; the canonical log has "+hex(l.hashes[n]))
	}
	return n, true
}

func itoa(i int) string   { return strconv.Itoa(i) }
func hex(h uint64) string { return leftPad(strconv.FormatUint(h, 16), 16) }

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// ReadReply checks the answer to a read that did not go through the log
// (Part F: a lease read): it names a state, the op-number n of its last op
// and the log hash after it, which must be the canonical log's prefix up to
// a committed op. It returns n. (Whether the state is recent enough is the
// driver's to check: it knows when the read was invoked.)
func (l *Log) ReadReply(client, reqNum int, m *vr.Message) (int, bool) {
	n, h, ok := DecodeResult(m.Result)
	c, s := "client "+itoa(client), " read "+itoa(reqNum)
	switch {
	case !ok:
		return 0, l.failf("client", c+" got a malformed result for"+s+": "+strconv.Quote(string(m.Result)))
	case n == 0 && h == 0:
		return 0, true // the state before any op
	case n < 1 || n > l.CommittedMax() || l.ops[n] == 0 && l.hashes[n] == 0:
		return 0, l.failf("client", c+"'s"+s+" was answered from a state at op-number "+itoa(n)+", which no replica committed")
	}
	if !l.HashAt(n, h, func() string { return "the state that answered " + c + "'s" + s }) {
		return 0, false
	}
	return n, true
}

// MaxPrimaryView is the highest view that has had a normal primary (-1:
// none yet).
func (l *Log) MaxPrimaryView() int {
	top := -1
	for v := range l.primaries {
		top = max(top, v)
	}
	return top
}
