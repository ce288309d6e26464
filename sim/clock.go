package sim

import "math/rand/v2"

// Clocks (Part F). Every replica has a clock of its own: the simulator
// ticks replica i rate[i] times per simulated tick on average, so over a
// run its clock gains or loses against simulated time, and against the
// others'. A rate is in millionths; drawn within 1 ± Config.ClockSkew,
// half of them at an extreme. With no skew every replica ticks exactly once
// per simulated tick, as before clocks had rates.
//
// Leases depend on it: a primary honours a grant for LeaseTicks − margin of
// its ticks, a backup keeps its promise for LeaseTicks of its own. Within
// the skew VR-PROTOCOL.md §7 assumes (MaxClockSkew) the margin keeps every
// lease inside its promises; vrsim -skew beyond it shows what breaks.

const ppm = 1_000_000

// clockRates draws the replicas' clock rates, in millionths, from the seed;
// nil without skew.
func clockRates(cfg Config) []int {
	if cfg.ClockSkew == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0xc10c))
	rates := make([]int, cfg.Replicas)
	for i := range rates {
		u := 2*r.Float64() - 1
		switch r.IntN(4) {
		case 0:
			u = -1
		case 1:
			u = 1
		}
		rates[i] = ppm + int(u*cfg.ClockSkew*ppm)
	}
	return rates
}

// tickClock gives replica i the ticks its clock has this simulated tick:
// one without skew, else as many as its rate has accumulated.
func (s *Sim) tickClock(i int) {
	sl := s.reps[i]
	if s.rates == nil {
		s.tick(i)
		return
	}
	sl.phase += s.rates[i]
	for sl.phase >= ppm && sl.up && s.failure == nil {
		sl.phase -= ppm
		s.tick(i)
	}
}
