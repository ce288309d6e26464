package vrnet

import (
	"bytes"
	"errors"
	"reflect"
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
		{Type: vr.MsgCommitOK, From: 2, To: 0, View: 5, SentAt: 1234, Grant: true},
		{Type: vr.MsgRequest, ClientID: 3, RequestNum: 4, Op: []byte("get"), ReadOnly: true},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		b := appendMessage(nil, &m)
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

func TestRequestReplyStateRoundTrip(t *testing.T) {
	for _, a := range []vr.RequestArgs{{ClientID: -9, RequestNum: 5, Op: []byte("op")}, {ClientID: 1, RequestNum: 2, ReadOnly: true}} {
		call, a2, err := decodeRequest(appendRequest(nil, 77, &a))
		if err != nil || call != 77 || !reflect.DeepEqual(a, a2) {
			t.Fatalf("request: got %d %#v %v", call, a2, err)
		}
	}
	r := vr.RequestReply{OK: true, Result: []byte("res"), View: 3, Primary: 2}
	call, r2, err := decodeReply(appendReply(nil, 78, &r))
	if err != nil || call != 78 || !reflect.DeepEqual(r, r2) {
		t.Fatalf("reply: got %d %#v %v", call, r2, err)
	}
	s := vr.State{Epoch: 1, View: 2, Status: vr.Recovering, IsPrimary: true, OpNumber: 3, CommitNumber: 4, CheckpointOpNumber: 5, LogLen: 6, LastNormalView: 7, Executed: 8}
	call, s2, err := decodeState(appendState(nil, 79, &s))
	if err != nil || call != 79 || s != s2 {
		t.Fatalf("state: got %d %#v %v", call, s2, err)
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
