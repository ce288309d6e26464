package sim

import (
	"fmt"
	"strings"

	"vrlab/vr"
)

// The liveness phase: every fault heals, and within Config.LivenessTicks
// every replica must converge and every client request complete.
//
// With Config.Failover, convergence is followed by more stages, each with
// the same bound:
//
//  1. the primary is isolated (both ways, from the other replicas; clients
//     still reach it) and the others must converge on a higher view without
//     it (a view change must happen, not just be allowed);
//  2. it is let back, and everyone converges again;
//  3. with clients: the primary becomes deaf, a one-way failure (VR-PROTOCOL.md
//     §3 [choice] "A primary that nobody hears"). Every replica's messages to
//     it are lost, while its own still arrive, and clients reach it both
//     ways. Its PREPAREs and COMMITs keep the backups' timers quiet, so only
//     the commit watchdog can see that it commits nothing (in seeds that
//     keep loss on, a run of lost heartbeats may fire a timer too). An idle
//     deaf primary rightly stays primary (it has nothing to commit), so the
//     stage gives it work: one client, believing it primary, sends it a new
//     write, and each other client sends a new request of its own (a read or
//     a write, as it draws) with probability 1/2. The others must converge
//     on a higher view without it, with every request completed;
//  4. its links heal, and everyone converges again.
//
// Without stage 1, code that never changes view at all would converge in
// every seed that has no clients; without stage 3, code whose backups trust
// a primary they hear from, whether or not it hears them, would converge too.

// failover is where a run is in Config.Failover's stages.
type failover struct {
	stage   int // 0: converging after the heal; 1: primary isolated; 2: primary back; 3: primary deaf; 4: its links healed
	primary int // stages 1 and 3: the isolated or deaf primary
	view    int // stages 1 and 3: its view, which the others must move past
}

// apart is the replica that converged leaves out (stages 1 and 3: the
// isolated or deaf primary), or -1.
func (f *failover) apart() int {
	if f.stage == 1 || f.stage == 3 {
		return f.primary
	}
	return -1
}

// lastStage is the stage after which the run is over.
func (s *Sim) lastStage() int {
	switch {
	case !s.cfg.Failover:
		return 0
	case s.cfg.Clients == 0:
		return 2 // no client could give a deaf primary work
	}
	return 4
}

// livenessDone checks the liveness stage the run is in, moving to the next
// one when it converged, and reports whether the run is over.
func (s *Sim) livenessDone() bool {
	if s.now-s.healAt > s.cfg.LivenessTicks {
		what := "after the heal"
		switch s.failover.stage {
		case 1:
			what = fmt.Sprintf("after isolating primary R%d of view %d (the others must move to a higher view)", s.failover.primary, s.failover.view)
		case 2:
			what = fmt.Sprintf("after letting isolated R%d back", s.failover.primary)
		case 3:
			what = fmt.Sprintf("after making primary R%d of view %d deaf, its inbound links cut, and giving it a request (the others must move to a higher view and complete every request)", s.failover.primary, s.failover.view)
		case 4:
			what = fmt.Sprintf("after healing deaf R%d's links", s.failover.primary)
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
	switch s.failover.stage {
	case 1:
		s.stats.Isolated++
	case 3:
		s.stats.Deafened++
	}
	if s.failover.stage == s.lastStage() {
		return true
	}
	s.healAt = s.now
	s.failover.stage++
	switch s.failover.stage {
	case 1:
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
	case 2:
		s.healFailover(fmt.Sprintf("failover: R%d back", s.failover.primary))
	case 3:
		s.deafen()
	case 4:
		s.healFailover(fmt.Sprintf("failover: deaf R%d hears again", s.failover.primary))
	}
	return false
}

// healFailover ends a failover stage's cut: every link is up again.
func (s *Sim) healFailover(desc string) {
	s.net.healAll()
	if s.trace != nil {
		s.tracef("heal    %s", desc)
	}
	s.mix(evHeal, s.failover.stage, 0, 0)
	if s.opts.Events != nil {
		s.emit(Event{Kind: EvHeal, Desc: desc})
	}
}

// deafen starts stage 3: the primary's inbound links from every other
// replica are cut (its outbound links and every client's links stay up),
// and clients give it work, since a deaf primary with nothing to commit
// rightly stays primary.
func (s *Sim) deafen() {
	p := s.currentPrimary()
	s.failover.primary, s.failover.view = p, s.reps[p].prev.View
	for b := 0; b < s.cfg.Replicas; b++ {
		if b != p {
			s.net.cut[b*s.net.nodes+p] = true
		}
	}
	if s.trace != nil {
		s.tracef("part    failover: primary R%d of view %d deaf (its inbound links cut; it still sends, clients reach it); the others must converge on a higher view", p, s.failover.view)
	}
	s.mix(evPartition, s.now, p, 3)
	if s.opts.Events != nil {
		s.emit(Event{Kind: EvPartition, Desc: fmt.Sprintf("failover: primary R%d of view %d deaf (its inbound links cut)", p, s.failover.view), Cut: s.cutLinks()})
	}
	// The clients are idle (the stage before converged). One sends the
	// deaf primary a write: a read could be answered under a lease it still
	// holds, and leave nothing to commit. Each other client, with
	// probability 1/2, sends its next request where it believes the primary
	// is.
	first := s.rng.IntN(s.cfg.Clients)
	for i, c := range s.clients[:s.cfg.Clients] {
		switch {
		case i == first:
			c.hint = p
			s.invoke(c, false)
		case s.rng.IntN(2) == 0:
			s.invoke(c, s.cfg.ReadRatio > 0 && s.rng.Float64() < s.cfg.ReadRatio)
		}
	}
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
	isolated := s.failover.apart()
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
