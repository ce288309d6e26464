package sim

import (
	"fmt"
	"strings"

	"vrlab/vr"
)

// The liveness phase: every fault heals, and within Config.LivenessTicks
// every replica must converge and every client request complete.
//
// With Config.Failover, convergence is followed by two more stages, each with
// the same bound: the primary is isolated and the others must converge on a
// higher view without it (a view change must happen, not just be allowed);
// then it is let back and everyone converges again. Without this, code that
// never changes view at all would converge in every seed that has no clients.

// failover is where a run is in Config.Failover's stages.
type failover struct {
	stage   int // 0: converging after the heal; 1: primary isolated; 2: primary back
	primary int // stage 1: the isolated primary
	view    int // stage 1: its view, which the others must move past
}

// livenessDone checks the liveness stage the run is in, moving to the next
// one when it converged, and reports whether the run is over.
func (s *Sim) livenessDone() bool {
	if s.now-s.healAt > s.cfg.LivenessTicks {
		what := "after the heal"
		if s.failover.stage == 1 {
			what = fmt.Sprintf("after isolating primary R%d of view %d (the others must move to a higher view)", s.failover.primary, s.failover.view)
		} else if s.failover.stage == 2 {
			what = fmt.Sprintf("after letting isolated R%d back", s.failover.primary)
		}
		s.failf("liveness", "not converged %d ticks %s: %s", s.cfg.LivenessTicks, what, s.describe())
		return true
	}
	if !s.converged() {
		return false
	}
	took := s.now - s.healAt
	s.stats.LivenessTook = max(s.stats.LivenessTook, took)
	s.stats.LivenessUse = max(s.stats.LivenessUse, 100*took/s.cfg.LivenessTicks)
	if s.trace != nil {
		s.tracef("done    converged %d ticks after stage %d began: %d ops committed", took, s.failover.stage, s.chk.CommittedMax())
	}
	if !s.cfg.Failover || s.failover.stage == 2 {
		return true
	}
	s.healAt = s.now
	s.failover.stage++
	if s.failover.stage == 1 {
		p := s.currentPrimary()
		s.failover.primary, s.failover.view = p, s.reps[p].prev.View
		for b := 0; b < s.net.nodes; b++ {
			if b != p {
				s.net.cut[p*s.net.nodes+b], s.net.cut[b*s.net.nodes+p] = true, true
			}
		}
		if s.trace != nil {
			s.tracef("part    failover: isolate primary R%d of view %d; the others must converge on a higher view", p, s.failover.view)
		}
		s.mix(evPartition, s.now, p, 1)
		if s.opts.Events != nil {
			s.emit(Event{Kind: EvPartition, Desc: fmt.Sprintf("failover: isolate primary R%d of view %d", p, s.failover.view), Cut: s.cutLinks()})
		}
	} else {
		s.net.healAll()
		if s.trace != nil {
			s.tracef("heal    failover: R%d back", s.failover.primary)
		}
		s.mix(evHeal, 2, 0, 0)
		if s.opts.Events != nil {
			s.emit(Event{Kind: EvHeal, Desc: fmt.Sprintf("failover: R%d back", s.failover.primary)})
		}
	}
	return false
}

// heal starts the liveness phase: every fault ends, crashed replicas restart,
// and clients only finish what they started.
func (s *Sim) heal() {
	s.liveness = true
	s.healAt = s.now
	s.partUntil = 0
	s.net.healAll()
	s.net.drop, s.net.dup, s.net.longRate = s.cfg.LivenessDropRate, 0, 0
	if s.trace != nil {
		s.tracef("heal    liveness phase: everything healed (loss %.2g); bound %d ticks", s.cfg.LivenessDropRate, s.cfg.LivenessTicks)
	}
	s.mix(evHeal, 1, 0, 0)
	if s.opts.Events != nil {
		s.emit(Event{Kind: EvHeal, Desc: "liveness phase: every fault healed"})
	}
	for i, sl := range s.reps {
		if !sl.up {
			s.start(i, true)
		}
	}
}

// converged: no client waits, and every replica is normal in one view with
// every op it holds executed, and holds every committed op.
func (s *Sim) converged() bool {
	if s.rc != nil {
		return s.convergedEpochs() // Part E: members of the newest epoch (reconfig.go)
	}
	for _, c := range s.clients {
		if c.outstanding {
			return false
		}
	}
	isolated := -1
	if s.failover.stage == 1 {
		isolated = s.failover.primary
	}
	var first *vr.State
	for i, sl := range s.reps {
		if i == isolated {
			continue
		}
		st := &sl.prev
		if first == nil {
			first = st
		}
		if !sl.up || st.Status != vr.Normal || st.View != first.View ||
			st.OpNumber != first.OpNumber || st.Executed != st.OpNumber || st.CommitNumber != st.OpNumber {
			return false
		}
	}
	if isolated >= 0 && first.View <= s.failover.view {
		return false
	}
	if first.OpNumber < s.chk.CommittedMax() {
		s.failf("agreement", "committed ops lost: every replica converged on op %d in view %d, but op %d was committed", first.OpNumber, first.View, s.chk.CommittedMax())
		return false
	}
	return true
}

// describe summarises the cluster for a failure message.
func (s *Sim) describe() string {
	var b strings.Builder
	for i, sl := range s.reps {
		if !sl.up {
			fmt.Fprintf(&b, "R%d down; ", i)
			continue
		}
		st := sl.prev
		fmt.Fprintf(&b, "R%d(life %d) %v e%d v%d v'%d n%d k%d x%d ckpt%d; ", i, sl.life, st.Status, st.Epoch, st.View, st.LastNormalView, st.OpNumber, st.CommitNumber, st.Executed, st.CheckpointOpNumber)
	}
	for _, c := range s.clients {
		if c.outstanding {
			fmt.Fprintf(&b, "c%d waits for request %d since tick %d; ", c.idx, c.seq, c.invokedAt)
		}
	}
	fmt.Fprintf(&b, "committed %d", s.chk.CommittedMax())
	return b.String()
}
