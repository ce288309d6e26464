package vr

import "testing"

// committedGroup is a group in view 0 whose replicas all hold ops 1..3 and
// know them committed.
func committedGroup(t *testing.T) *group {
	g := newGroup(t)
	for i := 1; i <= 3; i++ {
		g.run(Message{Type: MsgRequest, To: 0, ClientID: 7, RequestNum: i, Op: []byte("op")})
	}
	g.r[0].Tick() // a COMMIT: the backups learn k = 3
	g.run()
	return g
}

// tickAndCollect ticks the replicas ticking, delivering every message,
// until a message of type typ from replica from has been seen (at most 8
// rounds); it returns those messages.
func (g *group) tickAndCollect(ticking []int, typ MsgType, from int) []Message {
	var seen []Message
	for i := 0; i < 8 && len(seen) == 0; i++ {
		for _, j := range ticking {
			g.r[j].Tick()
		}
		for _, m := range g.run() {
			if m.Type == typ && m.From == from {
				seen = append(seen, m)
			}
		}
	}
	return seen
}

// expectView1WithOps1To3 checks that every replica is normal in view 1 with
// the whole log, ops 1..3.
func (g *group) expectView1WithOps1To3(t *testing.T) {
	t.Helper()
	for i, r := range g.r {
		if st := r.State(); st.View != 1 || st.Status != Normal || st.OpNumber != 3 || st.LogLen != 3 {
			t.Errorf("R%d: view %d %v, op-number %d, %d ops in the log; expected normal in view 1 with ops 1..3", i, st.View, st.Status, st.OpNumber, st.LogLen)
		}
	}
}

// TestStartViewCarriesOnlyWhatTheBackupLacks: a new primary sends a backup
// that gave its committed point for the view only the log after that
// point, and the backup, keeping its own committed ops, ends with the whole
// log (VR-PROTOCOL.md §5 [choice]).
func TestStartViewCarriesOnlyWhatTheBackupLacks(t *testing.T) {
	g := committedGroup(t)
	startViews := g.tickAndCollect([]int{1}, MsgStartView, 1) // R1 times out; R0 is silent
	if len(startViews) == 0 {
		t.Fatal("R1 sent no STARTVIEW")
	}
	trimmed := false
	for _, m := range startViews {
		if m.LogStart == 3 && len(m.Entries) == 0 && m.Checkpoint == nil {
			trimmed = true
		}
	}
	if !trimmed {
		t.Errorf("R1's STARTVIEWs %v: expected one to a backup whose DOVIEWCHANGE showed ops 1..3 committed, carrying no ops", startViews)
	}
	g.expectView1WithOps1To3(t)
	g.run(Message{Type: MsgRequest, To: 1, ClientID: 7, RequestNum: 4, Op: []byte("op")})
	g.r[1].Tick()
	g.run()
	for i, r := range g.r {
		if st := r.State(); st.Executed != 4 {
			t.Errorf("R%d executed %d ops; expected 4", i, st.Executed)
		}
	}
}

// TestStartViewTrimmedForAReplicaOutsideTheQuorum: a replica whose
// DOVIEWCHANGE the new primary never got, but whose STARTVIEWCHANGE gave
// its committed point, gets a STARTVIEW of only the ops after that point,
// and ends with the whole log (VR-PROTOCOL.md §5 [choice]).
func TestStartViewTrimmedForAReplicaOutsideTheQuorum(t *testing.T) {
	g := committedGroup(t)
	lostDVC := func(m Message) bool { return m.Type == MsgDoViewChange && m.From == 0 }
	var toR0 []Message
	for i := 0; i < 8 && len(toR0) == 0; i++ {
		g.r[1].Tick() // R1 times out; R0 and R2 join, and R0's DOVIEWCHANGE is lost
		for _, m := range g.runDropping(lostDVC) {
			if m.Type == MsgStartView && m.To == 0 {
				toR0 = append(toR0, m)
			}
		}
	}
	if len(toR0) == 0 {
		t.Fatal("R1 sent R0 no STARTVIEW")
	}
	for _, m := range toR0 {
		if m.LogStart != 3 || len(m.Entries) != 0 || m.Checkpoint != nil {
			t.Errorf("R1's STARTVIEW to R0: log (%d..%d] with %d ops, checkpoint %v; expected (3..3] and no checkpoint: R0's STARTVIEWCHANGE gave its committed point 3", m.LogStart, m.OpNumber, len(m.Entries), m.Checkpoint != nil)
		}
	}
	g.expectView1WithOps1To3(t)
}

// TestSilentPrimaryNoticedAfterExactlyT: a normal backup's timer is not
// randomised (VR-PROTOCOL.md §3 [choice]); whatever its seed, it starts the
// view change on the T-th tick without the primary.
func TestSilentPrimaryNoticedAfterExactlyT(t *testing.T) {
	const T = 10
	for seed := int64(1); seed <= 20; seed++ {
		r, err := NewReplica(1, 3, &countSM{}, Options{Seed: seed, HeartbeatTicks: 2, ViewChangeTicks: T})
		if err != nil {
			t.Fatal(err)
		}
		ticks := 0
		for r.State().Status == Normal && ticks < 2*T {
			r.Tick()
			ticks++
		}
		if ticks != T {
			t.Errorf("seed %d: the backup started its view change after %d ticks without the primary; expected exactly ViewChangeTicks = %d", seed, ticks, T)
		}
	}
}

// TestDoViewChangeCarriesOnlyWhatTheNewPrimaryLacks: a backup that heard
// the new primary's committed point in its STARTVIEWCHANGE sends it only
// the log after both replicas' committed points, and no checkpoint; the new
// primary, keeping its own committed ops, starts the view with the whole
// log (VR-PROTOCOL.md §5 [choice]).
func TestDoViewChangeCarriesOnlyWhatTheNewPrimaryLacks(t *testing.T) {
	g := committedGroup(t)
	dvcs := g.tickAndCollect([]int{1, 2}, MsgDoViewChange, 2) // R1 and R2 time out; R0 is silent
	if len(dvcs) == 0 {
		t.Fatal("R2 sent no DOVIEWCHANGE")
	}
	for _, m := range dvcs {
		if m.LogStart != 3 || len(m.Entries) != 0 || m.Checkpoint != nil || m.OpNumber != 3 || m.CommitNumber != 3 {
			t.Errorf("R2's DOVIEWCHANGE %v: expected log (3..3], no checkpoint, n=3 k=3, since R1's STARTVIEWCHANGE gave its committed point 3", m)
		}
	}
	g.expectView1WithOps1To3(t)
}

// TestNewPrimaryThatRestartedWaitsForAWholeLog: a DOVIEWCHANGE trimmed to a
// committed point the new primary gave in an earlier life cannot be adopted
// (the new primary no longer holds those ops): it waits, and the sender,
// taking the lowest point the new primary gave for the view, sends the
// whole log next.
func TestNewPrimaryThatRestartedWaitsForAWholeLog(t *testing.T) {
	entries := []Entry{{ClientID: 7, RequestNum: 1, Op: []byte("a")}, {ClientID: 7, RequestNum: 2, Op: []byte("b")}}
	p, err := NewReplica(1, 3, &countSM{}, Options{Seed: 1, HeartbeatTicks: 1, ViewChangeTicks: 3})
	if err != nil {
		t.Fatal(err)
	}
	step := func(m Message) {
		t.Helper()
		if err := p.Step(m); err != nil {
			t.Fatal(err)
		}
		p.Outbox()
	}
	stale := Message{Type: MsgDoViewChange, From: 2, To: 1, View: 1, LogStart: 2, OpNumber: 2, CommitNumber: 2}
	step(Message{Type: MsgStartViewChange, From: 2, To: 1, View: 1})
	step(stale)
	if st := p.State(); st.Status != ViewChange || st.OpNumber != 0 {
		t.Fatalf("new primary with an empty log, given a DOVIEWCHANGE of ops after 2: %v in view %d, op-number %d; expected to wait in the view change", st.Status, st.View, st.OpNumber)
	}
	whole := Message{Type: MsgDoViewChange, From: 2, To: 1, View: 1, Entries: entries, OpNumber: 2, CommitNumber: 2}
	step(whole)
	if st := p.State(); st.Status != Normal || st.View != 1 || st.OpNumber != 2 || st.Executed != 2 {
		t.Fatalf("after the whole log: %v in view %d, op-number %d, executed %d; expected normal in view 1 with ops 1..2 executed", st.Status, st.View, st.OpNumber, st.Executed)
	}

	// The sender's side: the lowest point the new primary gave is the one used.
	b, err := NewReplica(2, 3, &countSM{}, Options{Seed: 2, HeartbeatTicks: 1, ViewChangeTicks: 3})
	if err != nil {
		t.Fatal(err)
	}
	b.hearCommitted(Message{Type: MsgStartViewChange, From: 1, View: 1, CommitNumber: 5})
	b.hearCommitted(Message{Type: MsgStartViewChange, From: 1, View: 1, CommitNumber: 0})
	b.hearCommitted(Message{Type: MsgStartViewChange, From: 1, View: 1, CommitNumber: 4})
	if h := b.committedHeard[1]; !h.known || h.view != 1 || h.op != 0 {
		t.Errorf("after STARTVIEWCHANGEs of view 1 giving 5, 0, 4: recorded %+v; expected the lowest, 0", h)
	}
}
