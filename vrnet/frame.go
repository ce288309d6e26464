package vrnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the frame format's version; a frame of another version is
// rejected. Version 2 added the fields of reconfiguration (part E): the
// members of entries, messages, requests, replies and states.
const Version = 2

// DefaultMaxFrame is the default size limit of a frame. A checkpoint travels
// in one frame, so it bounds the service state too.
const DefaultMaxFrame = 64 << 20

// Frame kinds.
const (
	kindHello       byte = 1 // first frame of every connection
	kindMessage     byte = 2 // replica → replica: a vr.Message
	kindRequest     byte = 3 // client → replica: a call id and a vr.RequestArgs
	kindReply       byte = 4 // replica → client: the call id and a vr.RequestReply
	kindStatus      byte = 5 // client → replica: a call id
	kindStatusReply byte = 6 // replica → client: the call id and a vr.State
)

// ErrFrame reports a frame that breaks the format: bad length, version or
// kind, or a payload the codec rejects.
var ErrFrame = errors.New("vrnet: bad frame")

// frameHeader is the length prefix, the version byte and the kind byte.
const frameHeader = 4 + 2

// appendFrame appends a frame of kind whose payload encode appends.
func appendFrame(buf []byte, kind byte, encode func([]byte) []byte) []byte {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, Version, kind)
	buf = encode(buf)
	binary.BigEndian.PutUint32(buf[start:], uint32(len(buf)-start-4))
	return buf
}

// readFrame reads one frame and returns its kind and payload. It never
// allocates more than the frame's length, which it checks against max
// first.
func readFrame(r io.Reader, max int) (kind byte, payload []byte, err error) {
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 2 || uint64(n) > uint64(max) {
		return 0, nil, fmt.Errorf("%w: length %d outside [2, %d]", ErrFrame, n, max)
	}
	if _, err := io.ReadFull(r, hdr[4:]); err != nil {
		return 0, nil, noEOF(err)
	}
	if hdr[4] != Version {
		return 0, nil, fmt.Errorf("%w: version %d, expected %d", ErrFrame, hdr[4], Version)
	}
	kind = hdr[5]
	if kind < kindHello || kind > kindStatusReply {
		return 0, nil, fmt.Errorf("%w: unknown kind %d", ErrFrame, kind)
	}
	payload = make([]byte, n-2)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, noEOF(err)
	}
	return kind, payload, nil
}

// noEOF turns an EOF inside a frame into ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
