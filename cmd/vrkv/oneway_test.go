package main

// A one-way link failure over TCP: vrkv processes, with the fault proxies
// (proxy_test.go) of every backup→primary direction cut and every other
// direction up.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"vrlab/vr"
)

// deafen cuts (or heals) the proxies that carry the other processes'
// messages to process i, and only those: i's own connections to them, and
// the clients' to i, stay up. (A vrnet connection between replicas is one
// way: i dials j for its messages to j, and j never writes on it.)
func (pc *procCluster) deafen(i int, yes bool) {
	for j := 0; j < pc.n; j++ {
		if j != i {
			pc.links[j][i].block(yes)
		}
	}
}

// TestProcessOneWayPrimary: three vrkv processes; every backup's messages
// to the primary are lost, while the primary's reach the backups and the
// clients reach everyone (VR-PROTOCOL.md §3 [choice] "A primary that nobody
// hears"). Idle, the group keeps its view: the primary's heartbeats still
// arrive, and it has nothing to commit. A vrkv put then reaches the deaf
// primary, which cannot commit it; the backups' commit watchdog must start
// a view change, and the put completes in a new view with another primary,
// which vrkv status names. The deaf primary, which heard none of it, still
// says it is primary of the old view. After the heal every replica
// converges on the new view and holds every write.
func TestProcessOneWayPrimary(t *testing.T) {
	pc := startProcCluster(t, 3)
	p := pc.primary(10 * time.Second)
	pc.vrkv("put", "--timeout", "10s", "k", "a")
	before, err := pc.state(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cutting every backup→R%d link, one way (R%d primary of view %d, op %d)", p, p, before.View, before.OpNumber)
	pc.deafen(p, true)

	// Idle: several view-change timeouts pass and nobody changes view.
	time.Sleep(time.Second)
	for i := 0; i < pc.n; i++ {
		st, err := pc.state(i)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != vr.Normal || st.View != before.View || st.OpNumber != before.OpNumber {
			t.Fatalf("an idle group with a deaf primary changed: R%d %v in view %d at op %d, was view %d op %d (the primary's heartbeats still arrive, and it has nothing to commit)",
				i, st.Status, st.View, st.OpNumber, before.View, before.OpNumber)
		}
	}

	// A write: the backups must move on without the deaf primary.
	start := time.Now()
	pc.vrkv("append", "--timeout", "20s", "k", "b")
	t.Logf("an append completed %v after it was issued, with R%d deaf", time.Since(start).Round(time.Millisecond), p)
	out := pc.vrkv("status")
	t.Logf("vrkv status with R%d deaf:\n%s", p, out)
	m := regexp.MustCompile(`(?m)^configuration: epoch 0, members 0,1,2, primary R(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("vrkv status names no primary:\n%s", out)
	}
	q, _ := strconv.Atoi(m[1])
	qst, err := pc.state(q)
	if err != nil {
		t.Fatal(err)
	}
	if q == p || !qst.IsPrimary || qst.View <= before.View {
		t.Fatalf("vrkv status names R%d (view %d) as the primary; expected another replica than deaf R%d, in a view above %d", q, qst.View, p, before.View)
	}
	pst, err := pc.state(p)
	if err != nil {
		t.Fatal(err)
	}
	if !pst.IsPrimary || pst.View != before.View {
		t.Fatalf("deaf R%d is %v in view %d: it heard from nobody, so it must still be primary of view %d (is the cut one way?)", p, pst.Status, pst.View, before.View)
	}
	if want := fmt.Sprintf("R%d still acts as primary of view %d", p, before.View); !strings.Contains(out, want) {
		t.Fatalf("vrkv status does not say %q:\n%s", want, out)
	}
	pc.vrkv("append", "--timeout", "10s", "k", "c") // the new primary goes on

	pc.deafen(p, false)
	t.Logf("healed")
	pc.waitConverged(15 * time.Second)
	for i := 0; i < pc.n; i++ {
		st, err := pc.state(i)
		if err != nil {
			t.Fatal(err)
		}
		if st.View < qst.View {
			t.Fatalf("after the heal R%d is %v in view %d (primary %v); expected every replica in view %d or later", i, st.Status, st.View, st.IsPrimary, qst.View)
		}
	}
	if got := pc.vrkv("get", "--timeout", "10s", "k"); got != "abc\n" {
		t.Fatalf("vrkv get k printed %q after the heal, expected %q", got, "abc\n")
	}
}
