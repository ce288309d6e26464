package main

// The multi-process test of reconfiguration (part E): vrkv processes that
// start as standbys join the group, the original members are replaced and
// shut down, all through vrkv reconfigure and under client load through the
// fault proxies.

import (
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"vrlab/vr"
)

// reconfigTimeout bounds one vrkv reconfigure: the RECONFIGURATION
// commits, the new members fetch the state, the removed ones stop.
const reconfigTimeout = 30 * time.Second

// vrkv runs the binary with args, as an operator would, through the
// clients' proxies, and returns its stdout; it fails the test if it exits
// with an error. The command bounds its own wait (--timeout).
func (pc *procCluster) vrkv(args ...string) string {
	pc.t.Helper()
	args = append(args[:1:1], append([]string{"--cluster", strings.Join(pc.clusterArg(pc.n), ",")}, args[1:]...)...)
	cmd := exec.Command(pc.bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dieWithTest(cmd)
	out, err := cmd.Output()
	if err != nil {
		pc.t.Fatalf("vrkv %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// reconfigure runs vrkv reconfigure to members and checks what it says:
// the new epoch, and which replicas it found stopped (leaving: the members
// of the old configuration that members leaves out). It returns the
// output.
func (pc *procCluster) reconfigure(e int, members []int, leaving []int) string {
	pc.t.Helper()
	start := time.Now()
	out := pc.vrkv("reconfigure", "--members", joinInts(members), "--timeout", reconfigTimeout.String())
	pc.t.Logf("vrkv reconfigure --members %s (%v):\n%s", joinInts(members), time.Since(start).Round(time.Millisecond), out)
	if want := fmt.Sprintf("epoch %d: members %s\n", e, joinInts(members)); !strings.HasPrefix(out, want) {
		pc.t.Fatalf("vrkv reconfigure printed\n%s\nexpected it to begin with %q", out, want)
	}
	if len(leaving) > 0 {
		var names []string
		for _, i := range leaving {
			names = append(names, fmt.Sprintf("R%d", i))
		}
		if want := strings.Join(names, ", ") + " left the configuration and stopped"; !strings.Contains(out, want) {
			pc.t.Fatalf("vrkv reconfigure printed\n%s\nexpected %q: it returns once the removed replicas have stopped", out, want)
		}
	}
	return out
}

// waitEpoch waits until every running process that members names is normal
// in one view of epoch e with configuration members, and every other one
// is a standby; with converged, also until every member has executed
// everything its primary committed.
func (pc *procCluster) waitEpoch(e int, members []int, timeout time.Duration, converged bool) {
	pc.t.Helper()
	what := fmt.Sprintf("epoch %d with members %v normal in one view, the other replicas standbys", e, members)
	if converged {
		what += ", every committed op executed"
	}
	pc.eventually(timeout, what, func() (bool, string) {
		view, commit := -1, -1
		for i := 0; i < pc.n; i++ {
			if pc.procs[i] == nil {
				continue
			}
			st, err := pc.state(i)
			if err != nil {
				return false, fmt.Sprintf("R%d: %v", i, err)
			}
			label := fmt.Sprintf("R%d %v in view %d of epoch %d %v, op %d commit %d executed %d retired %v",
				i, st.Status, st.View, st.Epoch, st.Members, st.OpNumber, st.CommitNumber, st.Executed, st.Retired)
			if !slices.Contains(members, i) {
				if st.Status != vr.Standby {
					return false, label
				}
				continue
			}
			if st.Status != vr.Normal || st.Epoch != e || !slices.Equal(st.Members, members) || (view >= 0 && st.View != view) {
				return false, label
			}
			view = st.View
			if converged && (st.Executed != st.CommitNumber || (commit >= 0 && st.CommitNumber != commit)) {
				return false, label
			}
			commit = st.CommitNumber
		}
		return true, ""
	})
}

// stop shuts process i down as an operator would, with SIGTERM, and waits
// for its clean exit.
func (pc *procCluster) stop(i int) {
	pc.t.Helper()
	pc.signal(i, syscall.SIGTERM)
	err := pc.procs[i].Wait()
	pc.procs[i] = nil
	if err != nil {
		pc.t.Fatalf("replica %d exited with %v on SIGTERM", i, err)
	}
}

// TestProcessReconfigure: eight vrkv processes, of which 0, 1 and 2 are the
// first configuration and the others standbys (serve --members 0,1,2).
// Under client load through the fault proxies, vrkv reconfigure grows the
// group to 0-4, with a backup of the old group cut off while it does; then
// replaces the original three with 5, 6 and 7, which started as standbys,
// with 7 cut off while it does, and the original three are shut down once
// it returns; 7 joins after. A new member is then killed with kill -9 and
// recovers in the new epoch. The history must
// pass porcupine and the exact append check, and vrkv status must show the
// new configuration.
func TestProcessReconfigure(t *testing.T) {
	first, grown, replaced := []int{0, 1, 2}, []int{0, 1, 2, 3, 4}, []int{3, 4, 5, 6, 7}
	pc := startProcCluster(t, 8, "--members", joinInts(first))
	pc.waitEpoch(0, first, 10*time.Second, false)
	l := pc.startLoad(4)
	l.progress(50, 10*time.Second, "in epoch 0")

	// Grow 3 → 5 while a backup of the old group is cut off from the
	// other replicas (f=1 allows it): the STARTEPOCH and the state reach
	// the standbys without it, and it catches up when the cut heals.
	p := pc.primary(5 * time.Second)
	cut := (p + 1) % 3
	t.Logf("cutting off R%d (primary R%d), then 3 → 5", cut, p)
	pc.isolate(cut, true)
	out := pc.reconfigure(1, grown, nil)
	if !regexp.MustCompile(fmt.Sprintf(`members not yet normal in epoch 1: R%d \((normal|view-change) in epoch 0\)`, cut)).MatchString(out) {
		t.Fatalf("vrkv reconfigure printed\n%s\nexpected it to name R%d, cut off, as not yet normal in epoch 1", out, cut)
	}
	l.progress(50, 10*time.Second, fmt.Sprintf("in epoch 1 with R%d cut off", cut))
	pc.isolate(cut, false)
	pc.waitEpoch(1, grown, 15*time.Second, false)
	l.progress(50, 10*time.Second, "in epoch 1, every member up")

	// Replace the original three with the standbys 5, 6 and 7, while 7 is
	// cut off from the other replicas (f'=2 allows it): it hears of the
	// epoch only after the original three are gone, and must find the new
	// group and fetch the state from it. Shut the original three down once
	// vrkv reconfigure returns.
	late := 7
	pc.isolate(late, true)
	out = pc.reconfigure(2, replaced, first)
	if !strings.Contains(out, fmt.Sprintf("members not yet normal in epoch 2: R%d (standby in epoch 0)", late)) {
		t.Fatalf("vrkv reconfigure printed\n%s\nexpected it to name R%d, cut off, as not yet normal in epoch 2", out, late)
	}
	for _, i := range first {
		pc.stop(i)
	}
	l.progress(50, 10*time.Second, fmt.Sprintf("in epoch 2 with R%d cut off, the original three shut down", late))
	pc.isolate(late, false)
	pc.waitEpoch(2, replaced, 15*time.Second, false)
	l.progress(50, 10*time.Second, fmt.Sprintf("in epoch 2 after R%d joined", late))

	// A new member crashes and recovers in the new epoch.
	victim := 5
	if p := pc.primary(5 * time.Second); p == victim {
		victim = 6
	}
	t.Logf("kill -9 of R%d", victim)
	pc.kill(victim)
	l.progress(50, 10*time.Second, fmt.Sprintf("in epoch 2 with R%d down", victim))
	pc.start(victim, true)
	pc.eventually(15*time.Second, fmt.Sprintf("R%d to recover in epoch 2", victim), func() (bool, string) {
		st, err := pc.state(victim)
		return err == nil && st.Status == vr.Normal && st.Epoch == 2, fmt.Sprintf("%+v %v", st, err)
	})
	l.progress(50, 10*time.Second, fmt.Sprintf("after R%d recovered", victim))

	l.finish()
	pc.waitEpoch(2, replaced, 15*time.Second, true)
	status := pc.vrkv("status")
	t.Logf("vrkv status:\n%s", status)
	for _, want := range []string{"configuration: epoch 2, members 3,4,5,6,7, primary R", "not a member of epoch 2"} {
		if !strings.Contains(status, want) {
			t.Fatalf("vrkv status printed\n%s\nexpected %q", status, want)
		}
	}
	if got := strings.Count(status, "normal         epoch 2"); got != len(replaced) {
		t.Fatalf("vrkv status printed\n%s\nexpected %d replicas normal in epoch 2, saw %d", status, len(replaced), got)
	}
	l.check()
}
