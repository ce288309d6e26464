package vrnet

import (
	"bytes"
	"reflect"
	"testing"

	"vrlab/vr"
)

// FuzzReadFrame feeds arbitrary bytes to the frame reader and the decoders
// of every kind: they must return an error or a value, never panic, and a
// message, request, reply or state they accept must encode back to one that
// decodes equal.
//
//	go test -run '^$' -fuzz FuzzReadFrame -fuzztime 5m ./vrnet
func FuzzReadFrame(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(appendFrame(nil, kindMessage, func(b []byte) []byte { return appendMessage(b, &m) }))
	}
	f.Add(appendFrame(nil, kindHello, func(b []byte) []byte { return appendHello(b, hello{Role: roleReplica, ID: 1, NPeer: 3}) }))
	f.Add(appendFrame(nil, kindRequest, func(b []byte) []byte {
		return appendRequest(b, 3, &vr.RequestArgs{ClientID: 1, RequestNum: 2, Epoch: 1, Reconfig: true, Members: []int{0, 2, 4}})
	}))
	f.Add(appendFrame(nil, kindReply, func(b []byte) []byte {
		return appendReply(b, 4, &vr.RequestReply{NotPrimary: true, Epoch: 2, Members: []int{1, 2}, Err: "refused"})
	}))
	f.Add(appendFrame(nil, kindStatusReply, func(b []byte) []byte {
		return appendState(b, 5, &vr.State{Epoch: 1, Status: vr.Standby, Retired: true, Members: []int{3, 4, 5}, EpochStart: 9})
	}))
	f.Add([]byte{0, 0, 0, 3, Version, kindStatus, 7})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			kind, p, err := readFrame(r, 1<<16)
			if err != nil {
				return
			}
			switch kind {
			case kindHello:
				decodeHello(p)
			case kindMessage:
				m, err := decodeMessage(p)
				if err != nil {
					continue
				}
				again, err := decodeMessage(appendMessage(nil, &m))
				if err != nil || !reflect.DeepEqual(again, m) {
					t.Fatalf("message %#v re-decoded as %#v (%v)", m, again, err)
				}
			case kindRequest:
				reencodes(t, p, appendRequest, decodeRequest)
			case kindReply:
				reencodes(t, p, appendReply, decodeReply)
			case kindStatus:
				decodeCall(p)
			case kindStatusReply:
				reencodes(t, p, appendState, decodeState)
			}
		}
	})
}

// reencodes decodes p; if it decodes, its encoding must decode to the same
// call and value.
func reencodes[T any](t *testing.T, p []byte, encode func([]byte, uint64, *T) []byte, decode func([]byte) (uint64, T, error)) {
	call, v, err := decode(p)
	if err != nil {
		return
	}
	call2, again, err := decode(encode(nil, call, &v))
	if err != nil || call2 != call || !reflect.DeepEqual(again, v) {
		t.Fatalf("%#v (call %d) re-decoded as %#v (call %d, %v)", v, call, again, call2, err)
	}
}
