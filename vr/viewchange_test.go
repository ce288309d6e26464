package vr

import "testing"

// TestStartViewCarriesOnlyWhatTheBackupLacks: a new primary sends a backup
// whose DOVIEWCHANGE it holds only the log after that backup's committed
// point, and the backup, keeping its own committed ops, ends with the whole
// log (VR-PROTOCOL.md §5 [choice]).
func TestStartViewCarriesOnlyWhatTheBackupLacks(t *testing.T) {
	g := newGroup(t)
	for i := 1; i <= 3; i++ {
		g.run(Message{Type: MsgRequest, To: 0, ClientID: 7, RequestNum: i, Op: []byte("op")})
	}
	g.r[0].Tick() // a COMMIT: the backups learn k = 3
	g.run()
	var startViews []Message
	for i := 0; i < 8 && len(startViews) == 0; i++ { // R1 times out; R0 is silent
		g.r[1].Tick()
		for _, m := range g.run() {
			if m.Type == MsgStartView && m.From == 1 {
				startViews = append(startViews, m)
			}
		}
	}
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
	for i, r := range g.r {
		if st := r.State(); st.View != 1 || st.Status != Normal || st.OpNumber != 3 || st.LogLen != 3 {
			t.Errorf("R%d: view %d %v, op-number %d, %d ops in the log; expected normal in view 1 with ops 1..3", i, st.View, st.Status, st.OpNumber, st.LogLen)
		}
	}
	g.run(Message{Type: MsgRequest, To: 1, ClientID: 7, RequestNum: 4, Op: []byte("op")})
	g.r[1].Tick()
	g.run()
	for i, r := range g.r {
		if st := r.State(); st.Executed != 4 {
			t.Errorf("R%d executed %d ops; expected 4", i, st.Executed)
		}
	}
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
