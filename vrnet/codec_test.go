package vrnet

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"vrlab/vr"
)

func sampleMessages() []vr.Message {
	return []vr.Message{
		{},
		{Type: vr.MsgCommit, From: 1, To: 2, View: 3, CommitNumber: 7},
		{Type: vr.MsgPrepare, From: 0, To: 1, Epoch: 1, View: 4, OpNumber: 12, CommitNumber: 10, LogStart: 10,
			Entries: []vr.Entry{{Op: []byte("put x"), ClientID: -5, RequestNum: 3}, {Op: []byte{0, 1, 2}, ClientID: 1 << 62, RequestNum: 1}}},
		{Type: vr.MsgDoViewChange, From: 2, To: 0, View: 9, LastNormalView: 7, OpNumber: 3, LogStart: 2,
			Entries:    []vr.Entry{{Op: []byte("a")}},
			Checkpoint: &vr.Checkpoint{OpNumber: 2, State: []byte("state"), ClientTable: []vr.ClientRecord{{ClientID: 4, RequestNum: 9, Result: []byte("r")}, {ClientID: 5}}}},
		{Type: vr.MsgRecovery, From: 1, To: 0, Nonce: 1<<64 - 1},
		{Type: vr.MsgNotPrimary, To: vr.ToClient, View: 2, Primary: 1, ClientID: 42, RequestNum: 8, Result: []byte("x")},
		{Type: vr.MsgStartView, Checkpoint: &vr.Checkpoint{}},
		// Part E: a RECONFIGURATION in a log, and the messages of epochs.
		{Type: vr.MsgPrepare, From: 0, To: 3, Epoch: 2, View: 1, OpNumber: 9, CommitNumber: 8, LogStart: 7,
			Entries: []vr.Entry{{Op: []byte("op"), ClientID: 3, RequestNum: 4}, {ClientID: 7, RequestNum: 1, Members: []int{0, 3, 4}}}},
		{Type: vr.MsgReconfiguration, Epoch: 1, ClientID: 9, RequestNum: 2, Members: []int{2, 3, 4}},
		{Type: vr.MsgStartEpoch, From: 1, To: 4, Epoch: 3, OpNumber: 77, OldMembers: []int{0, 1, 2}, Members: []int{1, 2, 3, 4, 0}},
		{Type: vr.MsgNewEpoch, From: 4, To: 0, Epoch: 1, OpNumber: 5, OldMembers: []int{0}, Members: []int{1}},
		{Type: vr.MsgEpochStarted, From: 3, To: 0, Epoch: 1},
		{Type: vr.MsgReply, To: vr.ToClient, ClientID: 9, RequestNum: 2, Err: "a reconfiguration to [1 2] is in progress", Members: []int{0, 1, 2}},
		{Type: vr.MsgPrepare, Entries: []vr.Entry{{Members: []int{}}}, Members: []int{}}, // empty, not nil: kept apart
		{Type: vr.MsgCommitOK, From: 2, To: 0, View: 5, SentAt: 1234, Grant: true},
		{Type: vr.MsgRequest, ClientID: 3, RequestNum: 4, Op: []byte("get"), ReadOnly: true},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		b := appendMessage(nil, &m)
		if len(b) > maxMessageSize(&m) {
			t.Fatalf("%v: %d bytes encoded, above maxMessageSize's bound of %d", m, len(b), maxMessageSize(&m))
		}
		got, err := decodeMessage(b)
		if err != nil {
			t.Fatalf("decode(%v): %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip of %#v gave %#v", m, got)
		}
		// Every proper prefix is rejected, without a panic.
		for i := 0; i < len(b); i++ {
			if _, err := decodeMessage(b[:i]); err == nil {
				t.Fatalf("a %d-byte prefix of the %d-byte encoding of %v decoded", i, len(b), m)
			}
		}
		if _, err := decodeMessage(append(b, 0)); err == nil {
			t.Fatalf("a trailing byte after %v was accepted", m)
		}
	}
}

// checkRoundTrip encodes v, decodes it, and requires the same value back
// (and the call id); then every proper prefix and a trailing byte must be
// rejected with an error.
func checkRoundTrip[T any](t *testing.T, what string, v T, encode func([]byte, uint64, *T) []byte, decode func([]byte) (uint64, T, error)) {
	t.Helper()
	b := encode(nil, 77, &v)
	call, got, err := decode(b)
	if err != nil || call != 77 || !reflect.DeepEqual(got, v) {
		t.Fatalf("%s: round trip of %#v gave call %d, %#v, %v", what, v, call, got, err)
	}
	for i := 0; i < len(b); i++ {
		if _, _, err := decode(b[:i]); err == nil {
			t.Fatalf("%s: a %d-byte prefix of the %d-byte encoding of %#v decoded", what, i, len(b), v)
		}
	}
	if _, _, err := decode(append(b, 0)); err == nil {
		t.Fatalf("%s: a trailing byte after %#v was accepted", what, v)
	}
}

func TestRequestReplyStateRoundTrip(t *testing.T) {
	for _, a := range []vr.RequestArgs{
		{ClientID: -9, RequestNum: 5, Op: []byte("op")},
		{ClientID: 1, RequestNum: 2, Op: []byte("op"), Epoch: 3},
		{ClientID: 4, RequestNum: 6, Epoch: 1, Reconfig: true, Members: []int{0, 1, 2, 3, 4}},
		{ClientID: 1, RequestNum: 2, ReadOnly: true},
		{ClientID: 1, RequestNum: 3, Epoch: 2, ReadOnly: true, Reconfig: true, Members: []int{1}},
	} {
		checkRoundTrip(t, "request", a, appendRequest, decodeRequest)
	}
	for _, r := range []vr.RequestReply{
		{OK: true, Result: []byte("res"), View: 3, Primary: 2},
		{NotPrimary: true, View: 1, Primary: 4, Epoch: 2, Members: []int{2, 3, 4}},
		{View: 0, Epoch: 1, Members: []int{0, 1, 2}, Err: "the configuration [0 1 2] is already in force"},
	} {
		checkRoundTrip(t, "reply", r, appendReply, decodeReply)
	}
	for _, s := range []vr.State{
		{Epoch: 1, View: 2, Status: vr.Recovering, IsPrimary: true, OpNumber: 3, CommitNumber: 4, CheckpointOpNumber: 5, LogLen: 6, LastNormalView: 7, Executed: 8},
		{Epoch: 3, View: 1, Status: vr.Normal, IsPrimary: true, OpNumber: 90, CommitNumber: 90, Executed: 90, Members: []int{1, 3, 4}, EpochStart: 60},
		{Epoch: 2, Status: vr.Transitioning, Retired: true, OpNumber: 60, Members: []int{3, 4, 5}, EpochStart: 60},
		{Epoch: 2, Status: vr.Standby, Retired: true, Members: []int{3, 4, 5}},
	} {
		checkRoundTrip(t, "state", s, appendState, decodeState)
	}
	h := hello{Role: roleReplica, ID: 2, NPeer: 3}
	if h2, err := decodeHello(appendHello(nil, h)); err != nil || h2 != h {
		t.Fatalf("hello: got %#v %v", h2, err)
	}
}

func TestReadFrameLimits(t *testing.T) {
	m := sampleMessages()[2]
	frame := appendFrame(nil, kindMessage, func(b []byte) []byte { return appendMessage(b, &m) })
	kind, p, err := readFrame(bytes.NewReader(frame), 1<<20)
	if err != nil || kind != kindMessage {
		t.Fatalf("readFrame: %d %v", kind, err)
	}
	if got, err := decodeMessage(p); err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("decoded %#v, %v", got, err)
	}
	for name, tc := range map[string]struct {
		frame []byte
		max   int
	}{
		"oversized":     {frame, len(frame) - 5},
		"huge length":   {[]byte{0xff, 0xff, 0xff, 0xff, Version, kindMessage}, DefaultMaxFrame},
		"short length":  {[]byte{0, 0, 0, 1, Version}, DefaultMaxFrame},
		"wrong version": {[]byte{0, 0, 0, 2, Version + 1, kindMessage}, DefaultMaxFrame},
		"unknown kind":  {[]byte{0, 0, 0, 2, Version, 99}, DefaultMaxFrame},
	} {
		if _, _, err := readFrame(bytes.NewReader(tc.frame), tc.max); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: readFrame returned %v, expected ErrFrame", name, err)
		}
	}
	if _, _, err := readFrame(bytes.NewReader(frame[:len(frame)-1]), 1<<20); err == nil {
		t.Errorf("a truncated frame was accepted")
	}
}

func TestDecodeHugeCounts(t *testing.T) {
	// A message claiming 2^40 entries in a few bytes must fail without
	// allocating them.
	b := []byte{byte(vr.MsgPrepare), 0, 0, 0, 0, 0, 0, 0, 0}
	b = append(b, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20)
	if _, err := decodeMessage(b); err == nil {
		t.Fatal("accepted a message with 2^40 entries in 15 bytes")
	}
}

// TestDecodeBadMembers: lists of members longer than maxMembers, or than
// the bytes left, are rejected with an error before they are allocated,
// in every kind of frame that carries one; so are flags that are neither
// 0 nor 1 and unknown request flags.
func TestDecodeBadMembers(t *testing.T) {
	many := make([]int, maxMembers+1)
	for i := range many {
		many[i] = i
	}
	tooMany := []struct {
		what   string
		decode func([]byte) error
		b      []byte
	}{
		{"message members", func(b []byte) error { _, err := decodeMessage(b); return err },
			appendMessage(nil, &vr.Message{Type: vr.MsgStartEpoch, Epoch: 1, Members: many, OldMembers: []int{0}})},
		{"message old members", func(b []byte) error { _, err := decodeMessage(b); return err },
			appendMessage(nil, &vr.Message{Type: vr.MsgStartEpoch, Epoch: 1, Members: []int{0}, OldMembers: many})},
		{"entry members", func(b []byte) error { _, err := decodeMessage(b); return err },
			appendMessage(nil, &vr.Message{Type: vr.MsgPrepare, Entries: []vr.Entry{{Members: many}}})},
		{"request members", func(b []byte) error { _, _, err := decodeRequest(b); return err },
			appendRequest(nil, 1, &vr.RequestArgs{ClientID: 1, RequestNum: 1, Reconfig: true, Members: many})},
		{"reply members", func(b []byte) error { _, _, err := decodeReply(b); return err },
			appendReply(nil, 1, &vr.RequestReply{NotPrimary: true, Members: many})},
		{"state members", func(b []byte) error { _, _, err := decodeState(b); return err },
			appendState(nil, 1, &vr.State{Members: many})},
	}
	for _, tc := range tooMany {
		if err := tc.decode(tc.b); !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), "members") {
			t.Errorf("%s: a list of %d members decoded with error %v; expected ErrFrame naming the members", tc.what, len(many), err)
		}
	}

	// A count far beyond the bytes left: a state whose members claim 2^40
	// entries in a few bytes.
	st := appendState(nil, 1, &vr.State{})
	st = append(st[:len(st)-1], 0x80, 0x80, 0x80, 0x80, 0x80, 0x20)
	if _, _, err := decodeState(st); !errors.Is(err, ErrFrame) {
		t.Errorf("a state claiming 2^40 members decoded with error %v; expected ErrFrame", err)
	}

	// Flags: a primary or retired flag of 2, a request flag never defined.
	for name, s := range map[string]vr.State{"primary": {IsPrimary: true}, "retired": {Retired: true}} {
		b := appendState(nil, 1, &s)
		i := bytes.LastIndexByte(b, 2) // zig-zag 1 is the byte 2: the set flag
		b[i] = 4                       // zig-zag 2
		if _, _, err := decodeState(b); !errors.Is(err, ErrFrame) {
			t.Errorf("a state with %s flag 2 decoded with error %v; expected ErrFrame", name, err)
		}
	}
	req := appendRequest(nil, 1, &vr.RequestArgs{ClientID: 1, RequestNum: 1, Op: []byte("x")})
	req[len(req)-3] = 0x80 // the flags byte: before the epoch and the members
	if _, _, err := decodeRequest(req); !errors.Is(err, ErrFrame) || !strings.Contains(err.Error(), "request flags") {
		t.Errorf("a request with unknown flags decoded with error %v; expected ErrFrame naming the flags", err)
	}
}

// viewChangeMessage is a DOVIEWCHANGE as a view change under load sends it:
// 8,000 ops of 88 bytes and a 180 KB checkpoint.
func viewChangeMessage() vr.Message {
	m := vr.Message{Type: vr.MsgDoViewChange, Entries: make([]vr.Entry, 8000),
		Checkpoint: &vr.Checkpoint{State: make([]byte, 180000), ClientTable: make([]vr.ClientRecord, 16)}}
	for i := range m.Entries {
		m.Entries[i] = vr.Entry{Op: make([]byte, 88), ClientID: int64(i) << 40, RequestNum: i * 1000}
	}
	m.OpNumber = len(m.Entries)
	return m
}

// BenchmarkEncodeViewChange encodes viewChangeMessage into a fresh buffer
// (about 1.5 ms; growing the buffer by appending took 7).
func BenchmarkEncodeViewChange(b *testing.B) {
	m := viewChangeMessage()
	for b.Loop() {
		appendFrame(nil, kindMessage, func(b []byte) []byte { return appendMessage(b, &m) })
	}
}

// BenchmarkDecodeViewChange decodes viewChangeMessage.
func BenchmarkDecodeViewChange(b *testing.B) {
	m := viewChangeMessage()
	p := appendMessage(nil, &m)
	for b.Loop() {
		if _, err := decodeMessage(p); err != nil {
			b.Fatal(err)
		}
	}
}
