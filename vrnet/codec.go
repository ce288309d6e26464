package vrnet

// The codec: vr.Message, requests, replies, hellos and states, encoded by
// hand with varints. Every integer is a zig-zag varint (binary.AppendVarint)
// unless noted; a byte string is a uvarint length and its bytes. Decoding
// checks every length against the bytes left before it allocates, rejects
// trailing bytes, and never panics.

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"vrlab/vr"
)

// Roles a hello may name.
const (
	roleReplica byte = 1
	roleClient  byte = 2
)

// hello opens every connection.
type hello struct {
	Role  byte
	ID    int // the replica's index (roleReplica); -1 for a client
	NPeer int // the sender's cluster size: both ends must agree
}

func appendHello(b []byte, h hello) []byte {
	b = append(b, h.Role)
	b = binary.AppendVarint(b, int64(h.ID))
	return binary.AppendVarint(b, int64(h.NPeer))
}

func decodeHello(p []byte) (hello, error) {
	d := decoder{b: p}
	h := hello{Role: d.byte(), ID: d.int(), NPeer: d.int()}
	return h, d.finish("hello")
}

// appendMessage encodes m:
//
//	type(byte) from to epoch view op-number commit-number last-normal-view
//	log-start, uvarint #entries, entries (op, client-id, request-number,
//	members), checkpoint flag(byte 0/1) [op-number, state, uvarint
//	#records, records (client-id, request-number, result)], nonce(uvarint),
//	primary, client-id, request-number, op, result, members, old-members,
//	err, sent-at, lease flags(byte: 1 grant, 2 read-only)
//
// members is a list of replica numbers (appendMembers).
func appendMessage(b []byte, m *vr.Message) []byte {
	// Grow b once: a DOVIEWCHANGE carries a megabyte of log and checkpoint,
	// and growing to that by appending copies it over and over into fresh
	// memory, which took ten times as long as the encoding itself.
	b = slices.Grow(b, maxMessageSize(m))
	b = append(b, byte(m.Type))
	for _, x := range [...]int{m.From, m.To, m.Epoch, m.View, m.OpNumber, m.CommitNumber, m.LastNormalView, m.LogStart} {
		b = binary.AppendVarint(b, int64(x))
	}
	b = binary.AppendUvarint(b, uint64(len(m.Entries)))
	for i := range m.Entries {
		e := &m.Entries[i]
		b = appendBytes(b, e.Op)
		b = binary.AppendVarint(b, e.ClientID)
		b = binary.AppendVarint(b, int64(e.RequestNum))
		b = appendMembers(b, e.Members)
	}
	if m.Checkpoint == nil {
		b = append(b, 0)
	} else {
		c := m.Checkpoint
		b = append(b, 1)
		b = binary.AppendVarint(b, int64(c.OpNumber))
		b = appendBytes(b, c.State)
		b = binary.AppendUvarint(b, uint64(len(c.ClientTable)))
		for _, r := range c.ClientTable {
			b = binary.AppendVarint(b, r.ClientID)
			b = binary.AppendVarint(b, int64(r.RequestNum))
			b = appendBytes(b, r.Result)
		}
	}
	b = binary.AppendUvarint(b, m.Nonce)
	b = binary.AppendVarint(b, int64(m.Primary))
	b = binary.AppendVarint(b, m.ClientID)
	b = binary.AppendVarint(b, int64(m.RequestNum))
	b = appendBytes(b, m.Op)
	b = appendBytes(b, m.Result)
	b = appendMembers(b, m.Members)
	b = appendMembers(b, m.OldMembers)
	b = appendBytes(b, []byte(m.Err))
	b = binary.AppendVarint(b, int64(m.SentAt))
	var flags byte
	if m.Grant {
		flags |= leaseGrant
	}
	if m.ReadOnly {
		flags |= leaseReadOnly
	}
	return append(b, flags)
}

// maxMessageSize bounds the length of m's encoding (a varint takes at most
// binary.MaxVarintLen64 bytes).
func maxMessageSize(m *vr.Message) int {
	const v = binary.MaxVarintLen64
	members := func(ms []int) int { return v + v*len(ms) }
	n := 1 + 8*v + v
	for i := range m.Entries {
		e := &m.Entries[i]
		n += v + len(e.Op) + 2*v + members(e.Members)
	}
	n++
	if c := m.Checkpoint; c != nil {
		n += v + v + len(c.State) + v
		for _, r := range c.ClientTable {
			n += 3*v + len(r.Result)
		}
	}
	n += 4*v + v + len(m.Op) + v + len(m.Result) + members(m.Members) + members(m.OldMembers) + v + len(m.Err) + v + 1
	return n
}

// Lease flags of a message (Part F); a request's flags byte uses
// leaseReadOnly.
const (
	leaseGrant    byte = 1
	leaseReadOnly byte = 2
)

func decodeMessage(p []byte) (vr.Message, error) {
	d := decoder{b: p}
	var m vr.Message
	m.Type = vr.MsgType(d.byte())
	for _, x := range [...]*int{&m.From, &m.To, &m.Epoch, &m.View, &m.OpNumber, &m.CommitNumber, &m.LastNormalView, &m.LogStart} {
		*x = d.int()
	}
	// An entry takes at least 4 bytes (four empty fields), which bounds
	// the count before anything is allocated.
	if n := d.count(4); n > 0 {
		m.Entries = make([]vr.Entry, n)
		for i := range m.Entries {
			e := &m.Entries[i]
			e.Op = d.bytes()
			e.ClientID = d.int64()
			e.RequestNum = d.int()
			e.Members = d.members()
		}
	}
	switch d.byte() {
	case 0:
	case 1:
		c := &vr.Checkpoint{OpNumber: d.int(), State: d.bytes()}
		if n := d.count(3); n > 0 {
			c.ClientTable = make([]vr.ClientRecord, n)
			for i := range c.ClientTable {
				r := &c.ClientTable[i]
				r.ClientID = d.int64()
				r.RequestNum = d.int()
				r.Result = d.bytes()
			}
		}
		m.Checkpoint = c
	default:
		d.fail("bad checkpoint flag")
	}
	m.Nonce = d.uvarint()
	m.Primary = d.int()
	m.ClientID = d.int64()
	m.RequestNum = d.int()
	m.Op = d.bytes()
	m.Result = d.bytes()
	m.Members = d.members()
	m.OldMembers = d.members()
	m.Err = string(d.bytes())
	m.SentAt = d.int()
	flags := d.byte()
	if flags&^(leaseGrant|leaseReadOnly) != 0 {
		d.fail("bad lease flags")
	}
	m.Grant, m.ReadOnly = flags&leaseGrant != 0, flags&leaseReadOnly != 0
	return m, d.finish("message")
}

// Request flags (a byte). leaseReadOnly (2) is one too.
const (
	requestReconfig byte = 1 // a RECONFIGURATION to the request's members (part E)
)

// appendRequest encodes a call id (uvarint) and a request: client-id,
// request-number, op, flags (byte: requestReconfig, leaseReadOnly), epoch,
// members.
func appendRequest(b []byte, call uint64, a *vr.RequestArgs) []byte {
	b = binary.AppendUvarint(b, call)
	b = binary.AppendVarint(b, a.ClientID)
	b = binary.AppendVarint(b, int64(a.RequestNum))
	b = appendBytes(b, a.Op)
	var flags byte
	if a.Reconfig {
		flags |= requestReconfig
	}
	if a.ReadOnly {
		flags |= leaseReadOnly
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, int64(a.Epoch))
	return appendMembers(b, a.Members)
}

func decodeRequest(p []byte) (uint64, vr.RequestArgs, error) {
	d := decoder{b: p}
	call := d.uvarint()
	a := vr.RequestArgs{ClientID: d.int64(), RequestNum: d.int(), Op: d.bytes()}
	flags := d.byte()
	if flags&^(requestReconfig|leaseReadOnly) != 0 {
		d.fail("bad request flags")
	}
	a.Reconfig = flags&requestReconfig != 0
	a.ReadOnly = flags&leaseReadOnly != 0
	a.Epoch = d.int()
	a.Members = d.members()
	return call, a, d.finish("request")
}

// Reply flags.
const (
	replyOK         byte = 1
	replyNotPrimary byte = 2
)

// appendReply encodes a call id (uvarint), flags (byte), view, primary,
// result, epoch, members and err.
func appendReply(b []byte, call uint64, r *vr.RequestReply) []byte {
	b = binary.AppendUvarint(b, call)
	var flags byte
	if r.OK {
		flags |= replyOK
	}
	if r.NotPrimary {
		flags |= replyNotPrimary
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, int64(r.View))
	b = binary.AppendVarint(b, int64(r.Primary))
	b = appendBytes(b, r.Result)
	b = binary.AppendVarint(b, int64(r.Epoch))
	b = appendMembers(b, r.Members)
	return appendBytes(b, []byte(r.Err))
}

func decodeReply(p []byte) (uint64, vr.RequestReply, error) {
	d := decoder{b: p}
	call := d.uvarint()
	flags := d.byte()
	if flags&^(replyOK|replyNotPrimary) != 0 {
		d.fail("bad reply flags")
	}
	r := vr.RequestReply{OK: flags&replyOK != 0, NotPrimary: flags&replyNotPrimary != 0}
	r.View = d.int()
	r.Primary = d.int()
	r.Result = d.bytes()
	r.Epoch = d.int()
	r.Members = d.members()
	r.Err = string(d.bytes())
	return call, r, d.finish("reply")
}

func appendCall(b []byte, call uint64) []byte { return binary.AppendUvarint(b, call) }

func decodeCall(p []byte) (uint64, error) {
	d := decoder{b: p}
	call := d.uvarint()
	return call, d.finish("status request")
}

// appendState encodes a call id (uvarint) and a vr.State: epoch, view,
// status, primary (0/1), op-number, commit-number, checkpoint, log length,
// last-normal-view, executed, epoch-start, retired (0/1), members.
func appendState(b []byte, call uint64, s *vr.State) []byte {
	b = binary.AppendUvarint(b, call)
	for _, x := range [...]int{s.Epoch, s.View, int(s.Status), b2i(s.IsPrimary), s.OpNumber, s.CommitNumber,
		s.CheckpointOpNumber, s.LogLen, s.LastNormalView, s.Executed, s.EpochStart, b2i(s.Retired)} {
		b = binary.AppendVarint(b, int64(x))
	}
	return appendMembers(b, s.Members)
}

func decodeState(p []byte) (uint64, vr.State, error) {
	d := decoder{b: p}
	call := d.uvarint()
	var s vr.State
	var status, primary, retired int
	for _, x := range [...]*int{&s.Epoch, &s.View, &status, &primary, &s.OpNumber, &s.CommitNumber,
		&s.CheckpointOpNumber, &s.LogLen, &s.LastNormalView, &s.Executed, &s.EpochStart, &retired} {
		*x = d.int()
	}
	s.Status, s.IsPrimary, s.Retired = vr.Status(status), d.bool(primary), d.bool(retired)
	s.Members = d.members()
	return call, s, d.finish("status reply")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxMembers bounds a list of replica numbers: no configuration is larger
// (a decoded list is 8 bytes a member in memory, so the bound also keeps a
// frame of lists from growing eightfold).
const maxMembers = 1024

// appendMembers encodes a list of replica numbers as a uvarint count plus
// one (0: nil, so that an op and a RECONFIGURATION, whose Members is set,
// stay apart) and the numbers.
func appendMembers(b []byte, members []int) []byte {
	if members == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(members))+1)
	for _, x := range members {
		b = binary.AppendVarint(b, int64(x))
	}
	return b
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads fields from b; the first error sticks, and later reads
// return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrFrame, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	x := d.b[0]
	d.b = d.b[1:]
	return x
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) int64() int64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) int() int {
	x := d.int64()
	if x < math.MinInt || x > math.MaxInt {
		d.fail("integer out of range")
		return 0
	}
	return int(x)
}

// bool reads a flag that was encoded as the integer x: 0 or 1.
func (d *decoder) bool(x int) bool {
	if x != 0 && x != 1 {
		d.fail(fmt.Sprintf("flag %d, not 0 or 1", x))
	}
	return x == 1
}

// members reads a list of replica numbers (appendMembers), of at most
// maxMembers.
func (d *decoder) members() []int {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	n--
	if n > maxMembers || n > uint64(len(d.b)) {
		d.fail(fmt.Sprintf("a list of %d members (at most %d, with %d bytes left)", n, maxMembers, len(d.b)))
		return nil
	}
	members := make([]int, n)
	for i := range members {
		members[i] = d.int()
	}
	return members
}

// count reads a count of items that take at least min bytes each.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/min) {
		d.fail(fmt.Sprintf("count %d exceeds the %d bytes left", n, len(d.b)))
		return 0
	}
	return int(n)
}

// bytes reads a byte string; an empty one decodes as nil. The result is a
// copy-free sub-slice of the frame, which is never reused.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(fmt.Sprintf("string of %d bytes with %d left", n, len(d.b)))
		return nil
	}
	if n == 0 {
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) finish(what string) error {
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Sprintf("%d bytes after the %s", len(d.b), what))
	}
	if d.err != nil {
		return fmt.Errorf("%s: %w", what, d.err)
	}
	return nil
}
