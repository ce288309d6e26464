package sim

import (
	"fmt"
	"math/rand/v2"
)

// Parts are the lab parts the simulator can be limited to (ForPart).
const Parts = "ABCDEF"

// ForPart limits a drawn configuration to what the code of lab part part (and
// the parts before it) handles, so that a graded test can run the simulator
// on a student's Replica before the later parts exist:
//
//   - A: view changes only: no clients, no crashes, no checkpoints. Loss,
//     duplicates, delays and partitions stay.
//   - B: clients too (the log, state transfer); still no crashes.
//   - C: crashes and diskless recovery too; still no checkpoints.
//   - D: checkpoints too: every seed checkpoints.
//   - E: reconfigurations too (WithReconfig): every seed has standbys and
//     an administrator that moves the group between configurations;
//     checkpoints on or off as drawn.
//   - F: fast reads with leases: every seed has leases (LeaseTicks shorter
//     than its view-change timeout), a share of reads among the clients'
//     requests, and clocks running at rates within ±MaxClockSkew;
//     checkpoints as the seed drew them (half the seeds).
//
// Every part also requires a failover after convergence (Config.Failover):
// without clients, code that never changes view would otherwise converge.
// With clients (B and later), a second failover follows, from a deaf
// primary (its inbound links cut one way): the backups must see that it
// commits nothing (the commit watchdog, VR-PROTOCOL.md §3) and move on.
//
// Each seed keeps the rest of what it drew, so seeds differ in cluster size,
// timing and fault mix (swarm testing) within the part's limits.
func ForPart(part string) (func(*Config), error) {
	switch part {
	case "A", "B", "C", "D", "E", "F":
	default:
		return nil, fmt.Errorf("sim: unknown part %q (want one of A, B, C, D, E, F)", part)
	}
	return func(c *Config) {
		if part == "A" {
			c.Clients = 0
		}
		if part == "A" || part == "B" {
			c.CrashRate = 0
		}
		switch {
		case part == "E":
		case part == "F":
			drawLeases(c)
		case part != "D":
			c.CheckpointEvery = 0
		case c.CheckpointEvery == 0:
			c.CheckpointEvery = 1 + int(uint64(c.Seed)%24)
		}
		if part == "E" {
			WithReconfig(c)
		} else {
			NoReconfig(c)
		}
		c.Failover = true
		c.LivenessTicks = livenessBound(*c)
	}, nil
}

// drawLeases gives c a lease, a read share and clock rates, drawn from its
// seed (by a generator of their own, so the rest of the seed's draw stays
// what it was).
func drawLeases(c *Config) {
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0x1ea5e))
	t := c.ViewChangeTicks
	c.LeaseTicks = t/2 + r.IntN(t-t/2) // T/2 .. T-1: always shorter than the timeout
	c.ReadRatio = []float64{0.3, 0.5, 0.8, 0.95}[r.IntN(4)]
	c.ClockSkew = []float64{0, 0.01, 0.03, MaxClockSkew, MaxClockSkew}[r.IntN(5)]
}
