package sim

import (
	"fmt"
	"strings"

	"vrlab/sim/check"
	"vrlab/vr"
)

// Fault drawing: crashes and restarts, and partitions of every kind. Message
// loss, duplication and delay are the network's (network.go).

func (s *Sim) crash(i int) {
	sl := s.reps[i]
	sl.up = false
	sl.r, sl.sm = nil, nil
	sl.until = s.now + s.cfg.MinDown + s.rng.IntN(s.cfg.MaxDown-s.cfg.MinDown+1)
	s.stats.Crashes++
	if s.trace != nil {
		s.tracef("crash   R%d (life %d) until tick %d", i, sl.life, sl.until)
	}
	s.mix(evCrash, i, sl.life, sl.until)
	if s.opts.Events != nil {
		s.emit(Event{Kind: EvCrash, Replica: i, Life: sl.life, Until: sl.until})
	}
}

// down counts the replicas without their state: crashed, or restarted and
// still recovering. At most f may be down at once.
func (s *Sim) down() int {
	n := 0
	for _, sl := range s.reps {
		if !sl.up || sl.prev.Status == vr.Recovering {
			n++
		}
	}
	return n
}

func (s *Sim) injectFaults() {
	cfg := &s.cfg
	for i, sl := range s.reps {
		if !sl.up && s.now >= sl.until {
			s.start(i, true)
		}
	}
	if cfg.CrashRate > 0 && s.rng.Float64() < cfg.CrashRate {
		victim := -1
		if s.rng.Float64() < cfg.PrimaryCrashBias {
			victim = s.currentPrimary()
		}
		if victim < 0 {
			victim = s.rng.IntN(cfg.Replicas)
		}
		sl := s.reps[victim]
		if sl.up && (s.rc != nil && s.mayCrash(victim) || s.rc == nil && (sl.prev.Status == vr.Recovering || s.down() < cfg.f())) { // Part E: per configuration (reconfig.go)
			s.crash(victim)
		}
	}
	if s.partUntil > 0 && s.now >= s.partUntil {
		s.partUntil = 0
		s.net.healAll()
		if s.trace != nil {
			s.tracef("heal    partition ends")
		}
		s.mix(evHeal, 0, 0, 0)
		if s.opts.Events != nil {
			s.emit(Event{Kind: EvHeal, Desc: "partition ends"})
		}
	}
	if s.partUntil == 0 && cfg.PartitionRate > 0 && s.rng.Float64() < cfg.PartitionRate {
		s.partition()
	}
}

// currentPrimary is the replica that is normal primary in the highest view
// (of the highest epoch), or -1.
func (s *Sim) currentPrimary() int {
	best, view := -1, -1
	for i, sl := range s.reps {
		if k := check.ViewKey(sl.prev.Epoch, sl.prev.View); sl.up && sl.prev.IsPrimary && k > view {
			best, view = i, k
		}
	}
	return best
}

// partition starts a partition of a random kind.
func (s *Sim) partition() {
	n, nodes := s.cfg.Replicas, s.net.nodes
	cut := func(a, b int) { s.net.cut[a*nodes+b] = true }
	var desc string
	switch kind := s.rng.IntN(4); kind {
	case 0: // symmetric split: a random side against the rest; clients join a side or reach both
		side := make([]bool, n)
		k := 1 + s.rng.IntN(n-1)
		for _, p := range s.rng.Perm(n)[:k] {
			side[p] = true
		}
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				if side[a] != side[b] {
					cut(a, b)
				}
			}
		}
		for c := n; c < nodes; c++ {
			if s.rng.IntN(2) == 0 {
				sc := s.rng.IntN(2) == 0
				for b := 0; b < n; b++ {
					if side[b] != sc {
						cut(c, b)
						cut(b, c)
					}
				}
			}
		}
		desc = fmt.Sprintf("split %v", side)
	case 1: // asymmetric: random one-way links down
		var links []string
		for len(links) == 0 {
			for a := 0; a < n; a++ {
				for b := 0; b < n; b++ {
					if a != b && s.rng.IntN(3) == 0 {
						cut(a, b)
						links = append(links, fmt.Sprintf("%d→%d", a, b))
					}
				}
			}
		}
		desc = "one-way " + strings.Join(links, " ")
	case 2: // one replica isolated from everyone, clients included (often the primary)
		r := -1
		if s.rng.IntN(2) == 0 {
			r = s.currentPrimary()
		}
		if r < 0 {
			r = s.rng.IntN(n)
		}
		for b := 0; b < nodes; b++ {
			if b != r {
				cut(r, b)
				cut(b, r)
			}
		}
		desc = fmt.Sprintf("isolate R%d", r)
	case 3: // one replica deaf or mute: it only sends, or only receives
		r := -1
		if s.rng.IntN(2) == 0 {
			r = s.currentPrimary()
		}
		if r < 0 {
			r = s.rng.IntN(n)
		}
		deaf := s.rng.IntN(2) == 0
		for b := 0; b < n; b++ {
			if b != r {
				if deaf {
					cut(b, r)
				} else {
					cut(r, b)
				}
			}
		}
		desc = fmt.Sprintf("R%d deaf=%v", r, deaf)
	}
	s.partUntil = s.now + s.cfg.MinPartition + s.rng.IntN(s.cfg.MaxPartition-s.cfg.MinPartition+1)
	s.stats.Partitions++
	if s.trace != nil {
		s.tracef("part    %s until tick %d", desc, s.partUntil)
	}
	s.mix(evPartition, s.partUntil, len(desc), 0)
	if s.opts.Events != nil {
		s.emit(Event{Kind: EvPartition, Desc: desc, Until: s.partUntil, Cut: s.cutLinks()})
	}
}
