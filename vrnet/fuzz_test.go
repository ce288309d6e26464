package vrnet

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame reader and the decoders
// of every kind: they must return an error or a value, never panic, and a
// message they accept must encode back to a message that decodes equal.
//
//	go test -run '^$' -fuzz FuzzReadFrame -fuzztime 5m ./vrnet
func FuzzReadFrame(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(appendFrame(nil, kindMessage, func(b []byte) []byte { return appendMessage(b, &m) }))
	}
	f.Add(appendFrame(nil, kindHello, func(b []byte) []byte { return appendHello(b, hello{Role: roleReplica, ID: 1, NPeer: 3}) }))
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
				decodeRequest(p)
			case kindReply:
				decodeReply(p)
			case kindStatus:
				decodeCall(p)
			case kindStatusReply:
				decodeState(p)
			}
		}
	})
}
