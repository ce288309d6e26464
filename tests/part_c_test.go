package tests

// Part C: recovery after a crash. See LAB-C.md.

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"vrlab/labrpc"
	"vrlab/tests/harness"
	"vrlab/vr"
)

// recoverTimeout bounds a recovery: a view change may have to finish first.
const recoverTimeout = 10 * time.Second

// crashRestart crashes replica i, lets the others go on for a while, and
// restarts it with an empty service; it waits until recovery is done.
func crashRestart(c *harness.Cluster, i int, down time.Duration) {
	c.Crash(i)
	c.Sleep(down)
	c.Restart(i)
	c.WaitRecovered(i, recoverTimeout)
}

// requireParticipant shows that recovered replica i really holds the state:
// with another replica cut off, the group can only go on with i's help.
func requireParticipant(c *harness.Cluster, cl *harness.Client, i int) {
	other := (i + 1) % c.N()
	c.Disconnect(other)
	submitN(cl, 3, 0)
	c.Connect(other)
}

// TestBackupCrashRecoverC: a backup crashes, misses ops, restarts empty and
// recovers them from the others; then the group depends on it.
func TestBackupCrashRecoverC(t *testing.T) {
	c := harness.New(t, 3, "Test (C): backup crash and recovery")
	cl := c.NewClient()
	p, _ := c.WaitPrimary(primaryTimeout)
	submitN(cl, 5, 0)
	b := (p + 1) % 3
	c.Crash(b)
	submitN(cl, 5, 0)
	c.Restart(b)
	c.WaitRecovered(b, recoverTimeout)
	if st, _ := c.State(b); st.OpNumber < 10 {
		c.Fatalf("R%d recovered with op-number %d; the group had committed 10 ops", b, st.OpNumber)
	}
	requireParticipant(c, cl, b)
	c.WaitConverged(5 * time.Second)
}

// TestPrimaryCrashRecoverC: the primary crashes; a new view goes on; the old
// primary restarts empty, recovers, and is needed again.
func TestPrimaryCrashRecoverC(t *testing.T) {
	c := harness.New(t, 3, "Test (C): primary crash and recovery")
	cl := c.NewClient()
	p, _ := c.WaitPrimary(primaryTimeout)
	submitN(cl, 5, 0)
	c.Crash(p)
	submitN(cl, 5, 0)
	c.Restart(p)
	c.WaitRecovered(p, recoverTimeout)
	requireParticipant(c, cl, p)
	c.WaitConverged(5 * time.Second)
}

// TestCrashEachInTurnC: under client load, each replica in turn crashes and
// recovers (one at a time).
func TestCrashEachInTurnC(t *testing.T) {
	c := harness.New(t, 3, "Test (C): crash each replica in turn under load")
	load := c.StartLoad(3, 3*opTimeout)
	for i := 0; i < 3; i++ {
		load.WaitProgress(5, opTimeout)
		crashRestart(c, i, 300*time.Millisecond)
	}
	load.WaitProgress(5, opTimeout)
	_, highest := load.Stop()
	if got := c.WaitConverged(5 * time.Second); got < highest {
		c.Fatalf("replicas converged at op %d, but a client saw op %d complete", got, highest)
	}
}

// TestNextPrimaryCrashC: the primary is cut off and the replica that would
// be the next primary crashes and restarts during the view change. While it
// recovers it takes no part, so that view cannot finish; the group moves on
// to a later view, and the restarted replica recovers from it.
func TestNextPrimaryCrashC(t *testing.T) {
	c := harness.New(t, 5, "Test (C): next primary crashes during the view change")
	cl := c.NewClient()
	p, v := c.WaitPrimary(primaryTimeout)
	submitN(cl, 3, 0)
	next := (v + 1) % 5
	c.Disconnect(p)
	c.Crash(next)
	c.Restart(next)
	p2, v2 := c.WaitPrimary(2 * primaryTimeout)
	if p2 == next && v2 == v+1 {
		c.Fatalf("R%d became primary of view %d right after restarting: a recovering replica must recover before it takes part", next, v2)
	}
	c.WaitRecovered(next, recoverTimeout)
	c.Connect(p)
	last := submitN(cl, 3, 0)
	c.WaitExecuted(last, c.All(), 5*time.Second)
}

// TestUnreliableRecoveryC: crashes and recoveries on a network that drops,
// delays and reorders.
func TestUnreliableRecoveryC(t *testing.T) {
	c := harness.New(t, 3, "Test (C): recovery on an unreliable network", harness.Unreliable())
	load := c.StartLoad(2, 3*opTimeout)
	for round := 0; round < 3; round++ {
		load.WaitProgress(3, 2*opTimeout)
		p, _ := c.WaitPrimary(2 * primaryTimeout)
		victim := p
		if round == 1 {
			victim = (p + 1) % 3
		}
		crashRestart(c, victim, 200*time.Millisecond)
	}
	load.WaitProgress(3, 2*opTimeout)
	_, highest := load.Stop()
	c.Reliable(true)
	if got := c.WaitConverged(5 * time.Second); got < highest {
		c.Fatalf("replicas converged at op %d, but a client saw op %d complete", got, highest)
	}
}

// churn runs rounds of random faults — crash, restart, cut off, reconnect —
// never leaving more than f replicas unavailable, while clients submit ops.
// In the end every op a client saw complete is executed on every replica.
func churn(t *testing.T, title string, unreliable bool) {
	c := harness.New(t, 5, title)
	if unreliable {
		c.Reliable(false)
		c.LongReordering(true)
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	load := c.StartLoad(3, 6*opTimeout)
	crashed := map[int]bool{}
	cut := map[int]bool{}
	for round := 0; round < 12; round++ {
		c.Sleep(time.Duration(200+rng.Intn(400)) * time.Millisecond)
		i := rng.Intn(5)
		switch {
		case crashed[i]:
			c.Restart(i)
			c.WaitRecovered(i, 3*recoverTimeout)
			delete(crashed, i)
		case cut[i]:
			c.Connect(i)
			delete(cut, i)
		case len(crashed)+len(cut) < 2 && (round == 0 || rng.Intn(2) == 0):
			c.Crash(i) // the first round always crashes one: a churn without a crash tests no recovery
			crashed[i] = true
		case len(crashed)+len(cut) < 2:
			c.Disconnect(i)
			cut[i] = true
		}
	}
	for i := range crashed {
		c.Restart(i)
		c.WaitRecovered(i, 3*recoverTimeout)
	}
	c.Heal()
	c.Reliable(true)
	c.LongReordering(false)
	_, highest := load.Stop()
	if got := c.WaitConverged(10 * time.Second); got < highest {
		c.Fatalf("replicas converged at op %d, but a client saw op %d complete: a completed op was lost", got, highest)
	}
}

// TestChurnC: churn on a reliable network.
func TestChurnC(t *testing.T) {
	churn(t, "Test (C): churn", false)
}

// TestChurnUnreliableC: churn on an unreliable network with long reordering.
func TestChurnUnreliableC(t *testing.T) {
	churn(t, "Test (C): churn on an unreliable network", true)
}

// TestRecoveringNoQuorumC: a recovering replica counts toward no quorum.
// R2 restarts but its recovery is held up (its RECOVERYRESPONSEs are lost).
// With R1 cut off, R0 and the recovering R2 are two of three — a quorum if
// R2 counted. No op may commit and no new view may start until R1 returns.
func TestRecoveringNoQuorumC(t *testing.T) {
	c := harness.New(t, 3, "Test (C): a recovering replica is in no quorum")
	cl := c.NewClient()
	if p, _ := c.WaitPrimary(primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}
	before := submitN(cl, 3, 0)

	c.Crash(2)
	c.Drop("no RECOVERYRESPONSE", func(m vr.Message) bool { return m.Type == vr.MsgRecoveryResponse })
	c.Restart(2)
	c.Disconnect(1)
	pending := cl.Start(cl.NextOp(0), 4*opTimeout)
	c.During(1500*time.Millisecond, "no commit while R1 is cut off and R2 is recovering", func() (bool, string) {
		if pending.Done() {
			return false, "the client's op completed"
		}
		if st, _ := c.State(0); st.CommitNumber > before {
			return false, fmt.Sprintf("R0 committed op %d (the recovering R2 must not send PREPAREOK)", st.CommitNumber)
		}
		return true, ""
	})

	// R1 back: the op commits. Then the primary goes: the other one and
	// the recovering R2 must not start a view together.
	c.Connect(1)
	if _, err := pending.Wait(); err != nil {
		c.Fatalf("with R1 back: %v", err)
	}
	p, v := c.WaitPrimary(primaryTimeout)
	c.Disconnect(p)
	c.During(1500*time.Millisecond, fmt.Sprintf("no view above %d while its primary R%d is cut off and R2 is recovering", v, p), func() (bool, string) {
		return c.NoPrimaryAbove(v)
	})

	c.Connect(p)
	c.Undrop("no RECOVERYRESPONSE")
	c.WaitRecovered(2, recoverTimeout)
	last := submitN(cl, 2, 0)
	c.WaitExecuted(last, c.All(), 5*time.Second)
}

// TestRapidPrimaryCrashesC: the primary crashes again and again at random
// moments under load; each time it restarts and recovers before the next.
func TestRapidPrimaryCrashesC(t *testing.T) {
	c := harness.New(t, 3, "Test (C): rapid primary crashes")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	load := c.StartLoad(3, 3*opTimeout)
	for round := 0; round < 8; round++ {
		p, _ := c.WaitPrimary(2 * primaryTimeout)
		c.Sleep(time.Duration(rng.Intn(300)) * time.Millisecond)
		crashRestart(c, p, time.Duration(rng.Intn(200))*time.Millisecond)
	}
	load.WaitProgress(3, opTimeout)
	_, highest := load.Stop()
	if got := c.WaitConverged(5 * time.Second); got < highest {
		c.Fatalf("replicas converged at op %d, but a client saw op %d complete", got, highest)
	}
}

// TestRecoveryLatestPrimaryC: a recovering replica must take its state from
// the primary of the highest view among the answers, and only that primary's
// answer for that view ([fix]). Scripted with dropped messages:
//
//  1. R0 (primary of view 0) and R1 commit ops; R2 crashes and restarts.
//  2. Only R1's answers reach R2 — from view 0, where R1 is a backup (no log).
//  3. R0 and R1 change to view 1, whose primary is R1, and commit more ops.
//  4. Now only R0's answers reach R2: from view 1.
//
// R2 holds R1's answer from view 0 and R0's from view 1. The highest view is
// 1 and its primary is R1, but R1's answer is from view 0: R2 must wait for
// R1's answer for view 1, not adopt the empty log of the old one.
func TestRecoveryLatestPrimaryC(t *testing.T) {
	c := harness.New(t, 3, "Test (C): recovery waits for the latest primary's answer")
	cl := c.NewClient()
	if p, _ := c.WaitPrimary(primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}
	submitN(cl, 3, 0)
	c.Crash(2)

	var mu sync.Mutex
	fromR1 := 0
	c.Drop("recovery answers", func(m vr.Message) bool { // only R1's pass
		if m.Type == vr.MsgRecoveryResponse && m.From == 1 {
			mu.Lock()
			fromR1++
			mu.Unlock()
		}
		return m.Type == vr.MsgRecoveryResponse && m.From == 0
	})
	c.Restart(2)
	c.Eventually(2*time.Second, "R1's answer from view 0 to reach R2", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return fromR1 > 0, "none yet"
	})
	c.Drop("recovery answers", func(m vr.Message) bool { return m.Type == vr.MsgRecoveryResponse }) // none pass

	// View 1: R1 stops hearing R0 and starts it; R0 joins.
	c.Drop("R0 silent to R1", func(m vr.Message) bool {
		return m.From == 0 && m.To == 1 && (m.Type == vr.MsgPrepare || m.Type == vr.MsgCommit)
	})
	c.Eventually(primaryTimeout, "R1 to become primary of view 1", func() (bool, string) {
		st, _ := c.State(1)
		return st.IsPrimary && st.View == 1, fmt.Sprintf("R1 %v in view %d", st.Status, st.View)
	})
	c.Undrop("R0 silent to R1")
	committed := submitN(cl, 3, 0)

	// Only R0's answers pass; and R2 gets no PREPARE or NEWSTATE, so a wrong
	// recovery cannot be repaired by state transfer before it is seen.
	c.Drop("recovery answers", func(m vr.Message) bool {
		return (m.Type == vr.MsgRecoveryResponse && m.From == 1) || (m.To == 2 && (m.Type == vr.MsgPrepare || m.Type == vr.MsgNewState))
	})
	recoveredWell := func() (bool, string) {
		st, _ := c.State(2)
		if st.Status == vr.Recovering || st.OpNumber >= committed {
			return true, ""
		}
		return false, fmt.Sprintf("R2 finished recovery %v in view %d with op-number %d, but ops 1..%d were committed\n"+
			"(did it take R1's answer from view 0 as the answer of view 1's primary? VR-PROTOCOL.md §4 [fix])",
			st.Status, st.View, st.OpNumber, committed)
	}
	c.During(time.Second, "R2 not to recover from an older view's answer", recoveredWell)

	c.Undrop("recovery answers")
	c.WaitRecovered(2, recoverTimeout)
	if ok, seen := recoveredWell(); !ok {
		c.Fatalf("%s", seen)
	}
	last := submitN(cl, 1, 0)
	c.WaitExecuted(last, c.All(), 5*time.Second)
}

// TestRecoveryAcrossResendsC: the f+1 answers of one recovery may come in
// answer to different RECOVERYs, so the nonce and the answers collected must
// last the whole recovery; the answer adopted must be the primary's; and
// RECOVERY is resent once per heartbeat interval, not on every tick.
// Scripted with dropped messages, in a group of three with R0 primary:
//
//  1. R2 crashes before any op and restarts; every answer to it is lost for
//     a while, and the test counts its RECOVERYs. Then the answers pass: the
//     primary has an empty log and sends no entries, and R2 must recover.
//  2. Ops commit; R2 crashes and restarts. Of the answers to it, only R0's
//     first one passes, and R1's first one is lost: R2 gets the primary's
//     answer to its first RECOVERY and R1's only to a resend. NEWSTATEs to
//     R2 are lost, so it cannot fill in a wrong log later: the log it
//     recovers with must hold every committed op.
func TestRecoveryAcrossResendsC(t *testing.T) {
	c := harness.New(t, 3, "Test (C): recovery answers across resends")
	cl := c.NewClient()
	if p, _ := c.WaitPrimary(primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}

	// 1. Resends while no answer arrives, then recovery from an empty log.
	var mu sync.Mutex
	recoveries := 0
	c.Crash(2)
	c.Drop("no answers, count RECOVERYs", func(m vr.Message) bool {
		if m.Type == vr.MsgRecovery && m.From == 2 {
			mu.Lock()
			recoveries++
			mu.Unlock()
		}
		return m.Type == vr.MsgRecoveryResponse && m.To == 2
	})
	start := time.Now()
	c.Restart(2)
	c.Sleep(time.Second)
	mu.Lock()
	sent := recoveries
	mu.Unlock()
	elapsed := time.Since(start)
	// One broadcast (to 2 replicas) at the start and one per heartbeat
	// interval (10 ticks of 10 ms) after it; allow twice that.
	intervals := int(elapsed / (vr.DefaultHeartbeatTicks * vr.TickInterval))
	if budget := 2 * 2 * (1 + intervals); sent > budget {
		c.Fatalf("R2 sent %d RECOVERYs in %v of recovery; expected at most %d (one to each replica per heartbeat interval, with slack)", sent, elapsed.Round(time.Millisecond), budget)
	}
	if sent < 2*2 {
		c.Fatalf("R2 sent %d RECOVERYs in %v while no answer reached it; expected a resend every heartbeat interval", sent, elapsed.Round(time.Millisecond))
	}
	c.Undrop("no answers, count RECOVERYs")
	c.WaitRecovered(2, recoverTimeout)
	if st, _ := c.State(2); st.View != 0 || st.OpNumber != 0 {
		c.Fatalf("R2 recovered into view %d with op-number %d; expected view 0, op-number 0 (no op was submitted)", st.View, st.OpNumber)
	}

	// 2. The primary's answer comes to the first RECOVERY, R1's to a resend.
	committed := submitN(cl, 5, 0)
	c.Crash(2)
	fromR0, fromR1 := 0, 0
	c.Drop("split answers", func(m vr.Message) bool {
		if m.To != 2 {
			return false
		}
		if m.Type == vr.MsgNewState {
			return true
		}
		if m.Type != vr.MsgRecoveryResponse {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		switch m.From {
		case 0:
			fromR0++
			return fromR0 > 1 // only the first
		case 1:
			fromR1++
			return fromR1 == 1 // all but the first
		}
		return false
	})
	c.Restart(2)
	c.Eventually(recoverTimeout, "R2 to finish recovery with R0's answer to its first RECOVERY and R1's to a resend", func() (bool, string) {
		st, ok := c.State(2)
		mu.Lock()
		defer mu.Unlock()
		return ok && st.Status != vr.Recovering, fmt.Sprintf("R2 %v in view %d; %d answers from R0 (first passed), %d from R1 (first lost)\n"+
			"(a recovery must keep its nonce and the answers it collected across resends)", st.Status, st.View, fromR0, fromR1)
	})
	if st, _ := c.State(2); st.OpNumber < committed {
		c.Fatalf("R2 recovered %v in view %d with op-number %d, but ops 1..%d were committed\n"+
			"(the log adopted must be the primary's answer, found by its sender and view, not whichever answer came last)", st.Status, st.View, st.OpNumber, committed)
	}
	c.Undrop("split answers")
	last := submitN(cl, 1, 0)
	c.WaitExecuted(last, c.All(), 5*time.Second)
}

// bareServer runs a vr.Node over a trivial service, so that a test can hand
// its Node a message itself (the harness's servers keep their Nodes).
type bareServer struct{ node *vr.Node }

func (s bareServer) Node() *vr.Node { return s.node }
func (s bareServer) Kill()          { s.node.Kill() }

// echoService is a StateMachine whose ops change nothing.
type echoService struct{}

func (echoService) Apply(op []byte) []byte { return op }
func (echoService) Snapshot() []byte       { return nil }
func (echoService) Restore([]byte)         {}

// TestRecoveryStaleAnswersC: answers meant for an earlier life's recovery
// must not be taken. R2 restarts and every answer to it is lost (and kept);
// it crashes and restarts again, and again every answer is lost, but the
// kept answers of its previous life are handed to it, as a slow network
// might deliver them. They carry the previous life's nonce: R2 must ignore
// them and stay recovering. This holds only if each life draws a nonce of
// its own (from r.rand, which the Node seeds afresh in every life).
func TestRecoveryStaleAnswersC(t *testing.T) {
	var mu sync.Mutex
	nodes := map[int]*vr.Node{}
	factory := func(ends []*labrpc.ClientEnd, me int, opts vr.Options) harness.Server {
		node, err := vr.StartNode(ends, me, echoService{}, opts)
		if err != nil {
			t.Errorf("replica %d did not start: %v", me, err)
		}
		mu.Lock()
		nodes[me] = node
		mu.Unlock()
		return bareServer{node}
	}
	c := harness.New(t, 3, "Test (C): answers meant for an earlier life", harness.WithServers(factory))
	if p, _ := c.WaitPrimary(primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}

	var stale []vr.Message
	keeping := true
	c.Drop("answers to R2", func(m vr.Message) bool {
		if m.Type != vr.MsgRecoveryResponse || m.To != 2 {
			return false
		}
		mu.Lock()
		if keeping {
			stale = append(stale, m)
		}
		mu.Unlock()
		return true
	})
	c.Crash(2)
	c.Restart(2)
	c.Eventually(2*time.Second, "answers from R0 and R1 to R2's recovery (all lost on the way)", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		from := map[int]bool{}
		for _, m := range stale {
			from[m.From] = true
		}
		return from[0] && from[1], fmt.Sprintf("answers kept from %v", from)
	})
	mu.Lock()
	keeping = false
	mu.Unlock()

	c.Crash(2)
	c.Restart(2)
	mu.Lock()
	node, old := nodes[2], append([]vr.Message(nil), stale...)
	mu.Unlock()
	for _, m := range old {
		node.Deliver(m)
	}
	c.During(time.Second, "R2 to stay recovering", func() (bool, string) {
		st, _ := c.State(2)
		if st.Status == vr.Recovering {
			return true, ""
		}
		return false, fmt.Sprintf("R2 became %v in view %d, but the only answers that reached it were %d meant for its previous life's recovery\n"+
			"(an answer counts only if it carries this recovery's nonce, and each life needs a fresh nonce from r.rand)", st.Status, st.View, len(old))
	})
	c.Undrop("answers to R2")
	c.WaitRecovered(2, recoverTimeout)
}

// TestRecoveredAckC: a replica that recovered acknowledges only the log it
// adopted. Scripted with dropped messages, in a group of three:
//
//  1. Ops 1..3 commit in view 0 (R0 primary). Then R0 is cut off from the
//     others, except for recovery messages, and takes one more op, which it
//     cannot commit: R0 now holds ops 1..4.
//  2. The other two start a new view from ops 1..3. Its backup crashes and
//     restarts: it hears from R0 (view 0, op-number 4) and from the new
//     primary (the newer view, op-number 3), and recovers with ops 1..3.
//  3. The new primary takes an op, op 4 of its view, whose PREPAREs to the
//     recovered backup are lost. No backup holds it, so it must not commit
//     in that view.
//     It would, if the backup had acknowledged op-number 4 on recovering (R0's
//     op-number with the new primary's log).
func TestRecoveredAckC(t *testing.T) {
	c := harness.New(t, 3, "Test (C): a recovered replica acknowledges only the log it adopted")
	cl := c.NewClient()
	if p, _ := c.WaitPrimary(primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}
	committed := submitN(cl, 3, 0)

	// 1. R0 cut off but for recovery; it takes op 4.
	c.Drop("R0 cut off", func(m vr.Message) bool {
		recovery := m.Type == vr.MsgRecovery || m.Type == vr.MsgRecoveryResponse
		return (m.From == 0 || m.To == 0) && !recovery
	})
	old := c.NewClient()
	old.ReachOnly(0)
	old.Start(old.NextOp(0), 2*opTimeout)
	c.Eventually(2*time.Second, "R0 to take a client op it cannot commit", func() (bool, string) {
		st, _ := c.State(0)
		return st.OpNumber > committed, fmt.Sprintf("R0 %v in view %d with op-number %d", st.Status, st.View, st.OpNumber)
	})

	// 2. A new view without R0; its backup crashes and recovers.
	var p1, v1 int
	c.Eventually(2*primaryTimeout, "R1 or R2 to become primary of a view above 0", func() (bool, string) {
		for _, i := range []int{1, 2} {
			if st, _ := c.State(i); st.IsPrimary && st.View > 0 {
				p1, v1 = i, st.View
				return true, ""
			}
		}
		return false, "no primary above view 0 yet"
	})
	b := 3 - p1
	c.Crash(b)
	c.Restart(b)
	c.WaitRecovered(b, recoverTimeout)
	if st, _ := c.State(b); st.View != v1 || st.OpNumber != committed {
		c.Fatalf("R%d recovered %v in view %d with op-number %d; expected view %d with op-number %d (the log of view %d's primary R%d)",
			b, st.Status, st.View, st.OpNumber, v1, committed, v1, p1)
	}

	// 3. An op whose PREPAREs to b are lost must not commit.
	c.Drop("no PREPARE to the recovered backup", func(m vr.Message) bool {
		return m.Type == vr.MsgPrepare && m.To == b
	})
	cl2 := c.NewClient()
	cl2.ReachOnly(p1)
	pending := cl2.Start(cl2.NextOp(0), 4*opTimeout)
	// The window is shorter than the shortest view-change timeout (300 ms):
	// the lost PREPAREs silence the primary towards the recovered backup,
	// which may then rightly start a later view with the primary's log, op 4
	// included.
	c.During(250*time.Millisecond, fmt.Sprintf("R%d not to commit above op %d in view %d while no backup holds the new op", p1, committed, v1), func() (bool, string) {
		st, _ := c.State(p1)
		if st.IsPrimary && st.View == v1 && st.CommitNumber > committed {
			return false, fmt.Sprintf("R%d committed op %d in view %d, but its only reachable backup R%d never received it\n"+
				"(a recovered replica's PREPAREOK must be for the op-number of the log it adopted, VR-PROTOCOL.md §4)", p1, st.CommitNumber, v1, b)
		}
		return true, ""
	})

	c.Undrop("no PREPARE to the recovered backup")
	c.Undrop("R0 cut off")
	old.ReachMain()
	cl2.ReachMain()
	last, err := pending.Wait()
	if err != nil {
		c.Fatalf("after the network healed: %v", err)
	}
	c.WaitExecuted(last, c.All(), 5*time.Second)
}
