package search

import (
	"fmt"

	"vrlab/sim/check"
	"vrlab/vr"
)

// Failure is a check that failed in some state, with the moves that reach
// it from the start (the prefix's included).
type Failure struct {
	Check string // agreement, exactly-once, client, one-primary, order, conformance/…, panic, goal, prefix
	Msg   string
	Moves []string // the shortest path to the failing state, one move each
	Trace []string // the moves again, each with the replicas' states before and after
}

func (f *Failure) Error() string { return f.Check + ": " + f.Msg }

func (s *State) fail(name, msg string) {
	if s.failure == nil {
		s.failure = &Failure{Check: name, Msg: msg}
	}
}

// checkStep checks replica i's step from prev to st (in: the message; nil
// for a tick or a start), which sent out. The checks are the simulator's:
// package sim/check's committed log and protocol rules, plus the order
// checks of one replica life.
func (s *State) checkStep(i int, in *vr.Message, prev, st vr.State, out []vr.Message) {
	p := s.reps[i]
	w := who(i, p.life)
	if st.Executed != p.sm.Count {
		s.fail("order", fmt.Sprintf("%s reports op %d executed but its service applied %d ops", w, st.Executed, p.sm.Count))
		return
	}
	if st.View < prev.View || st.CommitNumber < prev.CommitNumber || st.Executed < prev.Executed {
		s.fail("order", fmt.Sprintf("%s went back: view %d→%d, commit-number %d→%d, executed %d→%d", w, prev.View, st.View, prev.CommitNumber, st.CommitNumber, prev.Executed, st.Executed))
		return
	}
	if st.IsPrimary && (!prev.IsPrimary || prev.View != st.View) {
		if !s.log.KnowsPrimary(st.View, i, p.life) {
			s.ownCheckState()
			s.log.Primary(st.View, i, p.life)
		}
		s.newPrimary(w, st)
	}
	if s.failure != nil {
		return
	}
	step := check.Step{Who: w, Self: i, F: s.cfg.f(), In: in, Prev: prev, St: st, Out: out, SVCFrom: p.svcFrom, OKSent: s.okSent}
	if name, msg := check.Rules(&step); name != "" {
		s.fail(name, msg)
		return
	}
	for k := range out {
		m := &out[k]
		if carriesCommitted(m) && !s.log.KnowsMessage(m) {
			s.ownCheckState()
			s.log.Message(m)
		}
		if m.Type == vr.MsgPrepareOK {
			s.ownOKs()
			oks := s.okSent[m.View]
			if oks == nil {
				oks = make([]int, len(s.reps))
				s.okSent[m.View] = oks
			}
			oks[i] = max(oks[i], m.OpNumber)
		}
	}
	// Remember the view in which each op was first seen committed.
	for len(s.commitView) <= s.log.CommittedMax() {
		s.ownCheckState()
		s.commitView = append(s.commitView, st.View)
	}
}

// carriesCommitted: m's log holds committed ops (or a checkpoint) for the
// committed log to check. The others need not be shown to it, which spares
// the state a copy of it.
func carriesCommitted(m *vr.Message) bool {
	return check.CarriesLog(m.Type) && (m.Checkpoint != nil || min(m.CommitNumber, m.LogStart+len(m.Entries)) > m.LogStart)
}

// newPrimary checks a replica that just became primary of view st.View: its
// log must hold every op committed in an earlier view. This is what a view
// change is for; without this check a lost op shows only once another op
// takes its place. (An op is dated by the view of the step that first showed
// it committed, which is never earlier than the view it committed in: so the
// check never blames a primary for an op committed after its view began.)
func (s *State) newPrimary(w string, st vr.State) {
	for n := st.OpNumber + 1; n < len(s.commitView) && n <= s.log.CommittedMax(); n++ {
		if s.commitView[n] < st.View {
			s.fail("agreement", fmt.Sprintf("committed op lost: %s became primary of view %d with ops up to %d, but op %d (%s) was committed in view %d",
				w, st.View, st.OpNumber, n, check.OpName(s.log.Op(n)), s.commitView[n]))
			return
		}
	}
}

// checkState runs the configuration's own invariant on a new state.
func (s *State) checkState() {
	if s.cfg.Invariant == nil {
		return
	}
	if msg := s.cfg.Invariant(s); msg != "" {
		s.fail("invariant", msg)
	}
}

// ---- goals ----

// AllNormal is a goal: every replica normal in one view at least view, with
// at least ops executed.
func AllNormal(view, ops int) func(*State) bool {
	return func(s *State) bool {
		v := s.Replica(0).View
		for i := range s.reps {
			st := s.Replica(i)
			if st.Status != vr.Normal || st.View != v || v < view || st.Executed < ops {
				return false
			}
		}
		return true
	}
}

// Describe is a one-line summary of the replicas of s, for failure messages.
func (s *State) Describe() string {
	out := ""
	for i := range s.reps {
		if i > 0 {
			out += "; "
		}
		out += s.repLine(i)
	}
	return fmt.Sprintf("%s; %d committed; %d in flight", out, s.Committed(), s.InFlight())
}

func (s *State) repLine(i int) string {
	st := s.reps[i].st
	line := fmt.Sprintf("R%d %v v%d v'%d n%d k%d x%d", i, st.Status, st.View, st.LastNormalView, st.OpNumber, st.CommitNumber, st.Executed)
	if l := s.reps[i].life; l > 0 {
		line += fmt.Sprintf(" life%d", l)
	}
	if st.IsPrimary {
		line += " primary"
	}
	return line
}
