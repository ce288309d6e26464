package sim

import "vrlab/sim/check"

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
	key := check.DecodeOp(op)
	c.count++
	c.hash = check.Chain(c.hash, key)
	c.s.chk.Applied(c.replica, c.life, c.count, key, c.hash)
	return check.EncodeResult(c.count, c.hash)
}

func (c *counterSM) Snapshot() []byte { return check.EncodeResult(c.count, c.hash) }

func (c *counterSM) Restore(snap []byte) {
	n, h, ok := check.DecodeResult(snap)
	if !ok {
		c.s.failf("checkpoint", "R%d (life %d) restored a malformed snapshot of %d bytes", c.replica, c.life, len(snap))
		return
	}
	c.count, c.hash = n, h
	c.s.chk.Restored(c.replica, c.life, n, h)
}
