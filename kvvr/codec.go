// Package kvvr is a replicated key/value service built on Viewstamped
// Replication (package vr). Each KVServer holds a map[string]string as its
// vr.StateMachine; a Clerk submits Get, Put and Append ops through a
// vr.Client. VR orders the ops and executes each exactly once on every
// replica; its client-table makes a retried op safe, so neither the Clerk
// nor the server keeps any duplicate detection of its own. See LAB-KV.md.
package kvvr

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// OpKind says what an Op does.
type OpKind byte

// The op kinds. Zero is not a valid kind, so an empty or zeroed op is
// malformed.
const (
	OpGet    OpKind = 1
	OpPut    OpKind = 2
	OpAppend OpKind = 3
)

func (k OpKind) String() string {
	switch k {
	case OpGet:
		return "Get"
	case OpPut:
		return "Put"
	case OpAppend:
		return "Append"
	}
	return fmt.Sprintf("OpKind(%d)", byte(k))
}

// Op is one key/value operation. Value is empty for a Get.
type Op struct {
	Kind  OpKind
	Key   string
	Value string
}

func (op Op) String() string {
	if op.Kind == OpGet {
		return fmt.Sprintf("Get(%q)", op.Key)
	}
	return fmt.Sprintf("%v(%q, %q)", op.Kind, op.Key, op.Value)
}

// ErrMalformed reports bytes that are not a valid encoded op, result or
// snapshot.
var ErrMalformed = errors.New("kvvr: malformed encoding")

// The first byte of every result Apply returns.
const (
	resultOK    byte = 0 // followed by the value (Get) or nothing (Put, Append)
	resultError byte = 1 // followed by an error message
)

// EncodeOp encodes op compactly, without gob:
//
//	Get:           kind, uvarint len(key), key
//	Put or Append: kind, uvarint len(key), key, uvarint len(value), value
//
// The encoding of an Op is unique, so DecodeOp(EncodeOp(op)) == op and
// DecodeOp accepts nothing else.
func EncodeOp(op Op) []byte {
	//lab:begin KV
	buf := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(op.Key)+len(op.Value))
	buf = append(buf, byte(op.Kind))
	buf = appendString(buf, op.Key)
	if op.Kind != OpGet {
		buf = appendString(buf, op.Value)
	}
	return buf
	//lab:stub return nil
	//lab:end
}

// DecodeOp decodes an op made by EncodeOp. It returns an error wrapping
// ErrMalformed, and never panics, for any other input: an unknown kind, a
// length beyond the end of the input, a Get with a value, trailing bytes.
func DecodeOp(b []byte) (Op, error) {
	//lab:begin KV
	if len(b) == 0 {
		return Op{}, fmt.Errorf("%w: empty op", ErrMalformed)
	}
	op := Op{Kind: OpKind(b[0])}
	if op.Kind != OpGet && op.Kind != OpPut && op.Kind != OpAppend {
		return Op{}, fmt.Errorf("%w: unknown op kind %d", ErrMalformed, b[0])
	}
	rest := b[1:]
	var err error
	if op.Key, rest, err = readString(rest); err != nil {
		return Op{}, fmt.Errorf("%w: %v key: %v", ErrMalformed, op.Kind, err)
	}
	if op.Kind != OpGet {
		if op.Value, rest, err = readString(rest); err != nil {
			return Op{}, fmt.Errorf("%w: %v value: %v", ErrMalformed, op.Kind, err)
		}
	}
	if len(rest) != 0 {
		return Op{}, fmt.Errorf("%w: %d bytes after the %v op", ErrMalformed, len(rest), op.Kind)
	}
	return op, nil
	//lab:stub return Op{}, ErrMalformed
	//lab:end
}

// okResult is Apply's result for a value (Get) or for nothing (Put, Append).
func okResult(value string) []byte {
	//lab:begin KV
	return append([]byte{resultOK}, value...)
	//lab:stub return nil
	//lab:end
}

// errorResult is Apply's result for an op it could not execute.
func errorResult(err error) []byte {
	//lab:begin KV
	return append([]byte{resultError}, err.Error()...)
	//lab:stub return nil
	//lab:end
}

// decodeResult turns a result made by okResult or errorResult back into the
// value or the error.
func decodeResult(b []byte) (string, error) {
	//lab:begin KV
	if len(b) == 0 {
		return "", fmt.Errorf("%w: empty result", ErrMalformed)
	}
	switch b[0] {
	case resultOK:
		return string(b[1:]), nil
	case resultError:
		return "", fmt.Errorf("kvvr: the servers rejected the op: %s", b[1:])
	}
	return "", fmt.Errorf("%w: result status %d", ErrMalformed, b[0])
	//lab:stub return "", ErrMalformed
	//lab:end
}

// appendString appends s to buf as uvarint len(s) followed by s's bytes.
func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// readString reads a string written by appendString from the front of b and
// returns it and the bytes after it. It fails, without panicking, on a bad
// uvarint or a length beyond the end of b.
func readString(b []byte) (s string, rest []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 {
		return "", nil, errors.New("bad length")
	}
	b = b[w:]
	if n > uint64(len(b)) {
		return "", nil, fmt.Errorf("length %d beyond the %d bytes left", n, len(b))
	}
	return string(b[:n]), b[n:], nil
}
