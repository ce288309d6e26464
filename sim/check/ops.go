package check

import "encoding/binary"

// An op is 8 bytes: the client's index+1 in the top 24 bits and its
// request-number below, so every op of a run is distinct and names its
// client and request.
func OpKey(client, reqNum int) uint64 { return uint64(client+1)<<40 | uint64(reqNum) }

// EncodeOp is the op bytes of key.
func EncodeOp(key uint64) []byte { return binary.BigEndian.AppendUint64(nil, key) }

// DecodeOp is the key of op bytes; 0 for bytes that are no op of ours.
func DecodeOp(op []byte) uint64 {
	if len(op) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(op)
}

// OpClient and OpReqNum take an op key apart.
func OpClient(key uint64) int { return int(key>>40) - 1 }
func OpReqNum(key uint64) int { return int(key & (1<<40 - 1)) }

// OpName is "c<client>.<request>", how traces and messages name an op.
func OpName(key uint64) string {
	if IsReconfig(key) {
		return "RECONFIGURATION#" + hex(key)[12:] // Part E (epochs.go)
	}
	return "c" + itoa(OpClient(key)) + "." + itoa(OpReqNum(key))
}

// Chain is the running hash of the executed ops: FNV-1a over 64-bit words.
func Chain(h, key uint64) uint64 {
	h ^= key
	h *= 0x100000001b3
	h ^= h >> 29
	return h
}

// EncodeResult is the test service's answer to an op: the op-number it ran
// at and the hash of the log up to it, so a reply says exactly where its op
// ran and what ran before it. A snapshot has the same form.
func EncodeResult(n int, h uint64) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(n))
	return binary.BigEndian.AppendUint64(b, h)
}

// DecodeResult takes a result (or snapshot) apart.
func DecodeResult(b []byte) (int, uint64, bool) {
	if len(b) != 16 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint64(b[8:]), true
}

// Counter is the state of the test service that the simulator and the
// search run: the number of ops applied and the running hash of them. Each
// wraps it in a vr.StateMachine that reports to its Log.
type Counter struct {
	Count int
	Hash  uint64
}

// Next applies op: it returns the op's key and the service's answer.
func (c *Counter) Next(op []byte) (key uint64, result []byte) {
	key = DecodeOp(op)
	c.Count++
	c.Hash = Chain(c.Hash, key)
	return key, EncodeResult(c.Count, c.Hash)
}

// Snapshot is the service state as a checkpoint holds it.
func (c *Counter) Snapshot() []byte { return EncodeResult(c.Count, c.Hash) }

// Restore replaces the state with a snapshot's; false for a malformed one.
func (c *Counter) Restore(snap []byte) bool {
	n, h, ok := DecodeResult(snap)
	if ok {
		c.Count, c.Hash = n, h
	}
	return ok
}
