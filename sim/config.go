package sim

import (
	"fmt"
	"math/rand/v2"
)

// TickMillis is the simulated duration of one tick (vr.Node's tick).
const TickMillis = 10

// Config is everything a run draws from its seed. Draw makes one (swarm
// testing: each seed picks its own cluster, timing and fault mix); callers may
// adjust fields before Run.
type Config struct {
	Seed int64

	Replicas        int // 3 or 5
	Clients         int
	CheckpointEvery int // 0 = checkpoints off
	HeartbeatTicks  int
	ViewChangeTicks int
	MaxBatchOps     int // vr.Options.MaxBatchOps: 1 = batching off, 0 = the default

	SafetyTicks   int // length of the faulty phase
	LivenessTicks int // bound: after healing, everything completes and converges within this

	// Network.
	MinDelay, MaxDelay int     // ticks, uniform
	LongDelayRate      float64 // fraction of messages delayed up to LongDelayMax instead
	LongDelayMax       int
	DropRate           float64
	DupRate            float64
	LivenessDropRate   float64 // message loss kept during the liveness phase (0 in most seeds)

	// Crashes: per-tick probability; a crashed replica stays down MinDown..MaxDown ticks.
	CrashRate        float64
	PrimaryCrashBias float64 // probability that a crash picks the current primary
	MinDown, MaxDown int

	// Partitions: per-tick probability of starting one while none is active.
	PartitionRate              float64
	MinPartition, MaxPartition int

	// Clients.
	ThinkMax      int // ticks between a reply and the next request, uniform 0..ThinkMax
	ClientTimeout int // ticks before a client resends to every replica

	// Conformance switches on the protocol-rule checks (what a replica may
	// send in which state), beside the end-to-end safety and liveness checks.
	Conformance bool

	// Failover adds liveness stages after convergence (liveness.go): the
	// primary is isolated until the others converge on a higher view, then
	// let back; and, with clients, the primary is made deaf (the replicas'
	// messages to it are lost, its own still arrive) and given a request,
	// until the others converge on a higher view, then its links heal. The
	// graded sweeps switch it on (ForPart).
	Failover bool

	// Reconfiguration (Part E, reconfig.go; WithReconfig): Replicas counts
	// every peer and Members is the epoch-0 configuration (nil: every
	// peer); the others start as standbys. An administrator asks for a new
	// configuration with this probability per tick (0: never).
	Members      []int
	ReconfigRate float64
	// Fast reads (Part F; 0 everywhere but in ForPart("F")). LeaseTicks is
	// vr.Options.LeaseTicks. ReadRatio is the fraction of client requests
	// that are reads (vr.Client.Read: ReadOnly). ClockSkew makes each
	// replica's clock run at its own rate, drawn within 1±ClockSkew of the
	// simulated time (clock.go): VR-PROTOCOL.md §7 assumes ±5%
	// (MaxClockSkew); beyond it, leases can outlive their promises.
	LeaseTicks int
	ReadRatio  float64
	ClockSkew  float64
}

// MaxClockSkew is the clock drift the lease margin allows for
// (VR-PROTOCOL.md §7 [choice]): every replica's clock within ±5% of real
// time.
const MaxClockSkew = 0.05

// maxDelaySpan bounds every delay: the network's timing wheel has this many slots.
const maxDelaySpan = 1024

// Draw returns the configuration of seed.
func Draw(seed int64) Config {
	r := rand.New(rand.NewPCG(uint64(seed), 0xc0ffee))
	chance := func(p float64) bool { return r.Float64() < p }
	between := func(lo, hi int) int { return lo + r.IntN(hi-lo+1) }
	c := Config{Seed: seed, Conformance: true}

	c.Replicas = 3
	if chance(0.4) {
		c.Replicas = 5
	}
	c.Clients = between(1, 6)
	if chance(0.5) {
		c.CheckpointEvery = between(1, 24)
	}
	c.HeartbeatTicks = vrDefaultHeartbeat
	c.ViewChangeTicks = vrDefaultViewChange
	if chance(0.3) {
		c.HeartbeatTicks = between(2, 10)
		c.ViewChangeTicks = between(max(c.HeartbeatTicks*2, 8), 40)
	}
	c.SafetyTicks = between(1000, 4000)

	// Ordinary delays stay well inside the view-change timeout (at most T/4
	// per hop): vr's timers are fixed (no backoff), so a view change whose
	// three hops (STARTVIEWCHANGE, DOVIEWCHANGE, STARTVIEW) take longer than
	// the timeout T never finishes, and the liveness phase would fail for a
	// reason outside the protocol's assumptions. Long delays break that rule
	// for a few messages only.
	c.MinDelay = between(0, min(2, c.ViewChangeTicks/8))
	c.MaxDelay = c.MinDelay + between(0, max(0, c.ViewChangeTicks/4-c.MinDelay))
	if chance(0.4) {
		c.LongDelayRate = []float64{0.005, 0.02, 0.1}[r.IntN(3)]
		c.LongDelayMax = between(50, 400)
	}
	if chance(0.7) {
		c.DropRate = []float64{0.01, 0.05, 0.1, 0.2, 0.35}[r.IntN(5)]
	}
	if chance(0.4) {
		c.DupRate = []float64{0.01, 0.05, 0.2}[r.IntN(3)]
	}
	if chance(0.25) {
		c.LivenessDropRate = []float64{0.01, 0.05, 0.1, 0.2, 0.3}[r.IntN(5)]
	}
	if chance(0.7) {
		c.CrashRate = []float64{0.0005, 0.002, 0.01}[r.IntN(3)]
		c.PrimaryCrashBias = r.Float64()
		c.MinDown = between(1, 50)
		c.MaxDown = c.MinDown + between(0, 600)
	}
	if chance(0.7) {
		c.PartitionRate = []float64{0.001, 0.005, 0.02}[r.IntN(3)]
		c.MinPartition = between(5, 100)
		c.MaxPartition = c.MinPartition + between(0, 1000)
	}
	c.ThinkMax = []int{0, 3, 20, 100}[r.IntN(4)]
	c.ClientTimeout = between(c.HeartbeatTicks*2, c.ViewChangeTicks*3)
	c.LivenessTicks = livenessBound(c)
	// Drawn last, so every other field of a seed is what it was before
	// batching existed.
	c.MaxBatchOps = []int{1, 2, 3, 0, 0}[r.IntN(5)]
	return c
}

const (
	vrDefaultHeartbeat  = 10 // vr.DefaultHeartbeatTicks
	vrDefaultViewChange = 30 // vr.DefaultViewChangeTicks
)

// livenessBound is the stated bound of the liveness phase: after the heal,
// every replica finishes recovery and converges, and every outstanding
// request completes, within this many ticks. It allows for a long delayed
// message still in flight at the heal, the recoveries, a run of failed view
// changes (each at most 2T ticks; with n=5 and two replicas recovering, up
// to two consecutive views can have an unusable primary), retries of
// clients, and, with loss kept on, repeated rounds.
func livenessBound(c Config) int {
	t := c.ViewChangeTicks
	b := c.LongDelayMax + c.MaxDelay*8 + 30*t + 4*c.ClientTimeout
	if c.ReconfigRate > 0 {
		b += 30 * t // a reconfiguration in flight completes: new members fetch the state, view changes in the new epoch
	}
	if c.LivenessDropRate > 0 {
		b *= 2
	}
	return b
}

func (c Config) f() int { return (c.Replicas - 1) / 2 }

// String is a one-line summary of the configuration.
func (c Config) String() string {
	return fmt.Sprintf("n=%d clients=%d ckpt=%d batch=%d hb=%d vc=%d safety=%d liveness≤%d delay=%d..%d long=%.3g/%d drop=%.2g dup=%.2g livedrop=%.2g crash=%.4g(primary %.2f, down %d..%d) part=%.3g(%d..%d) think≤%d ctimeout=%d",
		c.Replicas, c.Clients, c.CheckpointEvery, c.MaxBatchOps, c.HeartbeatTicks, c.ViewChangeTicks, c.SafetyTicks, c.LivenessTicks,
		c.MinDelay, c.MaxDelay, c.LongDelayRate, c.LongDelayMax, c.DropRate, c.DupRate, c.LivenessDropRate,
		c.CrashRate, c.PrimaryCrashBias, c.MinDown, c.MaxDown, c.PartitionRate, c.MinPartition, c.MaxPartition,
		c.ThinkMax, c.ClientTimeout) + c.reconfigString() + c.leaseString()
}

func (c Config) leaseString() string {
	if c.LeaseTicks == 0 && c.ReadRatio == 0 && c.ClockSkew == 0 {
		return ""
	}
	return fmt.Sprintf(" lease=%d reads=%.2g skew=%.3g", c.LeaseTicks, c.ReadRatio, c.ClockSkew)
}

// NoFaults switches every fault of c off: no crashes, partitions, loss,
// duplicates or long delays (delays and reordering stay).
func NoFaults(c *Config) {
	c.CrashRate, c.PartitionRate = 0, 0
	c.DropRate, c.DupRate, c.LongDelayRate, c.LivenessDropRate = 0, 0, 0, 0
	c.LongDelayMax = 0
	c.LivenessTicks = livenessBound(*c)
}
