package sim

import "vrlab/sim/check"

// counterSM is the replicated service of the simulation: like the graded
// tests' Recorder it keeps only the number of ops applied and a running hash
// of them, reports every Apply and Restore to the checker, and answers each
// op with its op-number and the hash of the log up to it. So a client's
// reply says exactly where its op ran and what ran before it.
type counterSM struct {
	check.Counter
	s             *Sim
	replica, life int
}

func (c *counterSM) Apply(op []byte) []byte {
	if c.s.rc != nil {
		c.Count = c.s.opBefore(c.replica, c.Count) // Part E: op-numbers count RECONFIGURATIONs, which the service never sees
	}
	key, result := c.Next(op)
	c.s.chk.Applied(c.replica, c.life, c.Count, key, c.Hash)
	return result
}

func (c *counterSM) Restore(snap []byte) {
	if !c.Counter.Restore(snap) {
		c.s.failf("checkpoint", "R%d (life %d) restored a malformed snapshot of %d bytes", c.replica, c.life, len(snap))
		return
	}
	c.s.chk.Restored(c.replica, c.life, c.Count, c.Hash)
}

// Read answers a read under a lease (vr.Reader): the op-number and log hash
// of the state, which it leaves as it is.
func (c *counterSM) Read([]byte) []byte { return check.EncodeResult(c.Count, c.Hash) }
