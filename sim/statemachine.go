package sim

import "encoding/binary"

// An op is 8 bytes: the client's index+1 in the top 24 bits and its
// request-number below, so every op of a run is distinct and names its
// client and request.
func opKey(client, reqNum int) uint64 { return uint64(client+1)<<40 | uint64(reqNum) }

func encodeOp(key uint64) []byte { return binary.BigEndian.AppendUint64(nil, key) }

func decodeOp(op []byte) uint64 {
	if len(op) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(op)
}

func opClient(key uint64) int { return int(key>>40) - 1 }
func opReqNum(key uint64) int { return int(key & (1<<40 - 1)) }

// chain is the running hash of the executed ops: FNV-1a over 64-bit words.
func chain(h, key uint64) uint64 {
	h ^= key
	h *= 0x100000001b3
	h ^= h >> 29
	return h
}

// counterSM is the replicated service of the simulation: like the graded
// tests' Recorder it keeps only the number of ops applied and a running hash
// of them, reports every Apply and Restore to the checker, and answers each
// op with its op-number and the hash of the log up to it. So a client's
// reply says exactly where its op ran and what ran before it.
type counterSM struct {
	s             *Sim
	replica, life int
	count         int
	hash          uint64
}

func (c *counterSM) Apply(op []byte) []byte {
	key := decodeOp(op)
	c.count++
	c.hash = chain(c.hash, key)
	c.s.chk.applied(c.replica, c.life, c.count, key, c.hash)
	return encodeResult(c.count, c.hash)
}

func (c *counterSM) Snapshot() []byte { return encodeResult(c.count, c.hash) }

func (c *counterSM) Restore(snap []byte) {
	n, h, ok := decodeResult(snap)
	if !ok {
		c.s.failf("checkpoint", "R%d (life %d) restored a malformed snapshot of %d bytes", c.replica, c.life, len(snap))
		return
	}
	c.count, c.hash = n, h
	c.s.chk.restored(c.replica, c.life, n, h)
}

func encodeResult(n int, h uint64) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(n))
	return binary.BigEndian.AppendUint64(b, h)
}

func decodeResult(b []byte) (int, uint64, bool) {
	if len(b) != 16 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint64(b[8:]), true
}
