package sim

import (
	"runtime"
	"strings"
	"testing"

	"vrlab/sim/check"
	"vrlab/vr"
)

// TestSweepReconfig sweeps seeds with reconfigurations (as part E does) and
// requires no failure, and that the sweep moved the group between epochs,
// had requests refused, and crashed replicas meanwhile.
func TestSweepReconfig(t *testing.T) {
	n := 150
	if raceEnabled || testing.Short() {
		n = 40
	}
	prepare, err := ForPart("E")
	if err != nil {
		t.Fatal(err)
	}
	sum := Sweep(1, n, runtime.GOMAXPROCS(0), prepare, Options{Extra: " -part E"})
	var b strings.Builder
	sum.Print(&b)
	t.Logf("sweep of %d seeds with reconfigurations:\n%s", n, b.String())
	for _, f := range sum.Failures {
		t.Errorf("%v", f)
	}
	if st := sum.Stats; st.Reconfigs == 0 || st.Refused == 0 || st.MaxEpoch < 2 || st.Crashes == 0 || st.Committed == 0 {
		t.Errorf("the sweep exercised too little: %+v", st)
	}
}

// TestDeterminismReconfig: a seed with reconfigurations replays exactly,
// traced or not.
func TestDeterminismReconfig(t *testing.T) {
	prepare, _ := ForPart("E")
	for _, seed := range []int64{3, 17} {
		cfg := Draw(seed)
		prepare(&cfg)
		var lines int
		a := Run(cfg, Options{Trace: func(string) { lines++ }, VRDebug: true})
		b := Run(cfg, Options{})
		if a.TraceHash != b.TraceHash || a.Stats != b.Stats {
			t.Errorf("seed %d: runs differ: %016x vs %016x", seed, a.TraceHash, b.TraceHash)
		}
		if a.Stats.MaxEpoch == 0 || lines == 0 {
			t.Errorf("seed %d: no reconfiguration (highest epoch %d) or no trace", seed, a.Stats.MaxEpoch)
		}
	}
}

// TestForPartReconfig: only part E has reconfigurations, and they keep the
// seed's cluster: its replicas become the epoch-0 configuration.
func TestForPartReconfig(t *testing.T) {
	for _, part := range []string{"A", "D", "E"} {
		prepare, err := ForPart(part)
		if err != nil {
			t.Fatal(err)
		}
		for seed := int64(1); seed < 20; seed++ {
			cfg := Draw(seed)
			n := cfg.Replicas
			prepare(&cfg)
			switch {
			case part != "E" && (cfg.Members != nil || cfg.ReconfigRate != 0 || cfg.Replicas != n):
				t.Errorf("part %s, seed %d: reconfigurations on: %v", part, seed, cfg)
			case part == "E" && (len(cfg.Members) != n || cfg.Replicas <= n || cfg.ReconfigRate == 0):
				t.Errorf("part E, seed %d: drawn %d replicas, configured %v", seed, n, cfg)
			}
		}
	}
}

// TestEpochChecksCatch plants violations of the epoch checks and requires
// each to be reported under its name.
func TestEpochChecksCatch(t *testing.T) {
	prepare, _ := ForPart("E")
	cases := []struct {
		name, check string
		plant       func(s *Sim)
	}{
		{"epoch with another configuration", "agreement", func(s *Sim) {
			s.chk.Epoch(1, 5, []int{0, 1, 2}, nil, func() string { return "the test" })
			s.chk.Epoch(1, 5, []int{0, 1, 3}, nil, func() string { return "the test" })
		}},
		{"epochs out of order", "agreement", func(s *Sim) {
			s.chk.Epoch(2, 5, []int{0, 1, 2}, nil, func() string { return "the test" })
			s.chk.Epoch(1, 9, []int{0, 1, 3}, nil, func() string { return "the test" })
		}},
		{"second primary of a view of an epoch", "one-primary", func(s *Sim) {
			s.chk.PrimaryIn(1, 0, 0, 0)
			s.chk.PrimaryIn(1, 0, 1, 0)
		}},
		{"a client op at an epoch's start", "agreement", func(s *Sim) {
			s.chk.Epoch(1, 100000, []int{0, 1, 2}, nil, func() string { return "the test" })
			s.chk.Committed(100000, check.OpKey(99, 1), func() string { return "the test" })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Draw(5)
			prepare(&cfg)
			NoFaults(&cfg)
			s := newSim(cfg, Options{})
			tc.plant(s)
			if s.failure == nil || s.failure.Check != tc.check {
				t.Fatalf("planted %s: expected a %s failure, got %v", tc.name, tc.check, s.failure)
			}
		})
	}
}

// TestEpochRulesCatch feeds check.EpochRules steps that break each rule.
func TestEpochRulesCatch(t *testing.T) {
	members := []int{0, 1, 2}
	st := func(status vr.Status, epoch int, retired bool) vr.State {
		return vr.State{Status: status, Epoch: epoch, EpochStart: 10, Executed: 10, CommitNumber: 10, OpNumber: 10, Members: members, Retired: retired}
	}
	cases := []struct {
		name, check string
		step        check.Step
		started     uint32
	}{
		{"a standby acknowledges", "conformance/standby", check.Step{Self: 4, Prev: st(vr.Standby, 1, false), St: st(vr.Standby, 1, false),
			Out: []vr.Message{{Type: vr.MsgPrepareOK, Epoch: 1}}}, 0},
		{"a joining member votes", "conformance/standby", check.Step{Self: 2, Prev: st(vr.Transitioning, 1, false), St: st(vr.Transitioning, 1, false),
			Out: []vr.Message{{Type: vr.MsgStartViewChange, Epoch: 1, View: 1}}}, 0},
		{"a leaving replica stops early", "conformance/retire", check.Step{Self: 4, Prev: st(vr.Transitioning, 1, true), St: st(vr.Standby, 1, true),
			In: &vr.Message{Type: vr.MsgEpochStarted, Epoch: 1, From: 0}}, 1 << 0},
		{"normal outside the configuration", "conformance/epoch", check.Step{Self: 4, Prev: st(vr.Normal, 1, false), St: st(vr.Normal, 1, false)}, 0},
		{"normal without the epoch's state", "conformance/epoch", check.Step{Self: 1, Prev: st(vr.Transitioning, 1, false),
			St: vr.State{Status: vr.Normal, Epoch: 1, EpochStart: 10, Executed: 9, Members: members}}, 0},
		{"an epoch out of nowhere", "conformance/epoch", check.Step{Self: 1, Prev: st(vr.Normal, 1, false), St: st(vr.Normal, 2, false)}, 0},
	}
	for _, tc := range cases {
		tc.step.Who = "R" + itoa(tc.step.Self)
		if name, msg := check.EpochRules(&tc.step, tc.started); name != tc.check {
			t.Errorf("%s: got %q (%s), want %s", tc.name, name, msg, tc.check)
		}
	}
	// And what the rules allow: a leaving replica that stops with f'+1.
	ok := check.Step{Who: "R4", Self: 4, Prev: st(vr.Transitioning, 1, true), St: st(vr.Standby, 1, true)}
	if name, msg := check.EpochRules(&ok, 1<<0|1<<2); name != "" {
		t.Errorf("a leaving replica stopping after 2 of 3 EPOCHSTARTED: %s: %s", name, msg)
	}
}
