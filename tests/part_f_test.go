package tests

// Part F: fast reads with leases. See LAB-F.md.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vrlab/kvvr"
	"vrlab/labrpc"
	"vrlab/tests/harness"
	"vrlab/vr"
)

// leaseTicks is the Options.LeaseTicks of the part-F tests: 200 ms with
// the default 10 ms tick, shorter than the view-change timeout (30 ticks)
// and longer than two heartbeat intervals (10 ticks), so heartbeats renew
// the leases before they run out. The primary honours a grant for
// leaseTicks − 1 − leaseTicks/8 = 16 ticks from its send.
const leaseTicks = 20

// leaseLength is a lease in real time (a Node's tick is vr.TickInterval).
const leaseLength = leaseTicks * vr.TickInterval

func withLeases() harness.Option { return harness.WithOptions(vr.Options{LeaseTicks: leaseTicks}) }

// readOp is a fresh read-only op. The Recorder answers a read with the
// op-number of the last op its state holds (through the log: the read's
// own op-number).
func readOp(cl *harness.Client) []byte { return append([]byte("read:"), cl.NextOp(0)...) }

// leaseReads runs n reads at primary p (one after another) and returns how
// many it answered under its leases: without a PREPARE, so its op-number
// did not move. Every read must see op last.
func leaseReads(c *harness.Cluster, cl *harness.Client, p, n, last int) int {
	leased := 0
	for i := 0; i < n; i++ {
		before, _ := c.State(p)
		if got := cl.Read(readOp(cl), opTimeout); got < last {
			c.Fatalf("a read returned op-number %d: it missed op %d, which completed before it began", got, last)
		}
		if after, _ := c.State(p); after.IsPrimary && after.OpNumber == before.OpNumber {
			leased++
		}
	}
	return leased
}

// requireLeaseReads fails unless at least need of n reads at primary p were
// answered under its leases.
func requireLeaseReads(c *harness.Cluster, cl *harness.Client, p, n, need, last int, when string) {
	if got := leaseReads(c, cl, p, n, last); got < need {
		c.Fatalf("%s: only %d of %d reads were answered by primary R%d under its leases (expected at least %d); the rest went through the log. "+
			"With LeaseTicks %d and the backups answering, the primary must hold f leases and answer reads from its state (LAB-F.md)",
			when, got, n, p, need, leaseTicks)
	}
}

// TestLeaseReadNoMessagesF: under its leases the primary answers reads from
// its state. Hundreds of reads cost the backups nothing beyond the
// heartbeats, and an idle primary, which has sent no PREPARE for a while,
// keeps its leases with the heartbeats' answers.
func TestLeaseReadNoMessagesF(t *testing.T) {
	c := harness.New(t, 3, "Test (F): lease reads send no replication messages", withLeases())
	cl := c.NewClient()
	p, _ := c.WaitPrimary(primaryTimeout)
	last := submitN(cl, 10, 0)
	c.WaitExecuted(last, c.All(), 5*time.Second)

	var backups []int
	for i := 0; i < 3; i++ {
		if i != p {
			backups = append(backups, i)
		}
	}
	before := make([]int, 3)
	for _, b := range backups {
		before[b] = c.RPCsTo(b)
	}
	const reads = 300
	start := time.Now()
	for i := 0; i < reads; i++ {
		if got := cl.Read(readOp(cl), opTimeout); got < last {
			c.Fatalf("read %d returned op-number %d: it missed op %d, which completed before it began", i+1, got, last)
		}
	}
	elapsed := time.Since(start)
	// Heartbeats only: one COMMIT per heartbeat interval, and some slack
	// for a read that found a lease just lapsed (a heartbeat late under
	// load) and went through the log.
	heartbeats := int(elapsed/(vr.DefaultHeartbeatTicks*vr.TickInterval)) + 2
	budget := 2*heartbeats + 10
	for _, b := range backups {
		if got := c.RPCsTo(b) - before[b]; got > budget {
			c.Fatalf("during %d reads (%v) backup R%d received %d messages; the budget is %d (%d heartbeat intervals): "+
				"reads under a lease must be answered by the primary without a PREPARE (does the primary hold f leases? see LAB-F.md)",
				reads, elapsed.Round(time.Millisecond), b, got, budget, heartbeats)
		}
	}

	// An idle primary: its leases come from the answers to its heartbeats.
	const idleReads, need = 10, 8
	leaseReads := 0
	for i := 0; i < idleReads; i++ {
		c.Sleep(250 * time.Millisecond) // longer than a lease: only heartbeats renew it
		st, _ := c.State(p)
		cl.Read(readOp(cl), opTimeout)
		if now, _ := c.State(p); now.OpNumber == st.OpNumber && now.IsPrimary {
			leaseReads++
		}
	}
	if leaseReads < need {
		c.Fatalf("of %d reads, each after 250 ms with no PREPARE, only %d were answered under a lease (expected at least %d); "+
			"the rest went through the log: do backups answer the COMMIT heartbeat with a COMMITOK that grants a lease?",
			idleReads, leaseReads, need)
	}
}

// TestLeaseFromSendF: every acknowledgement arrives 300 ms late, longer
// than a lease. Counted from when the primary sent what they answer, the
// leases they grant have run out when they arrive, so every read must go
// through the log.
func TestLeaseFromSendF(t *testing.T) {
	c := harness.New(t, 3, "Test (F): a lease counts from the send", withLeases())
	cl := c.NewClient()
	p, _ := c.WaitPrimary(primaryTimeout)
	last := submitN(cl, 3, 0)
	requireLeaseReads(c, cl, p, 10, 8, last, "with the acknowledgements on time")
	c.Delay("acknowledgements 300 ms late", 300*time.Millisecond, func(m vr.Message) bool {
		return m.Type == vr.MsgPrepareOK || m.Type == vr.MsgCommitOK
	})
	c.Sleep(2 * leaseLength) // leases granted before the delay run out
	for i := 0; i < 5; i++ {
		op := readOp(cl)
		before, _ := c.State(p)
		got := cl.Read(op, opTimeout)
		if got <= before.OpNumber {
			c.Fatalf("read %d returned op-number %d without going through the log (the primary's op-number was %d): "+
				"with every grant arriving 300 ms after its PREPARE or COMMIT was sent, a lease of %v counted from the send "+
				"has always run out; did the primary count the lease from the arrival of the grant?", i+1, got, before.OpNumber, leaseLength)
		}
	}
	c.Undrop("acknowledgements 300 ms late")
}

// TestPromiseF: a backup that grants leases to a primary it still hears
// takes no part in a view change that the other backup, cut off from the
// primary, tries to start. The primary restarted a while ago, so its clock
// reads far less than the backups': each side must count on its own clock.
func TestPromiseF(t *testing.T) {
	c := harness.New(t, 3, "Test (F): a backup keeps its promise", withLeases())
	cl := c.NewClient()
	if p, _ := c.WaitPrimary(primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}
	// R1 restarts, so its clock is young, and becomes primary of view 1.
	c.Crash(1)
	c.Sleep(500 * time.Millisecond)
	c.Restart(1)
	c.WaitRecovered(1, recoverTimeout)
	c.Disconnect(0)
	if p, v := c.WaitPrimary(2 * primaryTimeout); p != 1 || v != 1 {
		c.Fatalf("expected R1 to become primary of view 1, got R%d in view %d", p, v)
	}
	c.Connect(0)
	c.Eventually(5*time.Second, "every replica normal in view 1", func() (bool, string) { return c.AllNormalIn(1) })
	submitN(cl, 3, 0)

	// R2 no longer hears R1 (nor R1 R2); R0 hears both.
	var mu sync.Mutex
	var joined []string
	c.Observe("R0's view-change messages", func(m vr.Message) {
		if m.From == 0 && (m.Type == vr.MsgStartViewChange || m.Type == vr.MsgDoViewChange) {
			mu.Lock()
			joined = append(joined, m.String())
			mu.Unlock()
		}
	})
	c.Drop("R1-R2 cut", func(m vr.Message) bool { return m.From == 1 && m.To == 2 || m.From == 2 && m.To == 1 })
	cl.ReachOnly(0, 1)
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) { // R2 times out after 300 ms and keeps asking R0
		cl.Submit(cl.NextOp(0), opTimeout)
		cl.Read(readOp(cl), opTimeout)
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		seen := append([]string(nil), joined...)
		mu.Unlock()
		if len(seen) > 0 {
			st, _ := c.State(2)
			c.Fatalf("R0 sent %s while it heard primary R1 and granted it leases (R2, cut off from R1, is %v in view %d): "+
				"a backup that granted a lease must take no part in a view change until the lease's length has passed "+
				"on its own clock, counted from when it granted (R1's ticks are not R0's)", strings.Join(seen, ", "), st.Status, st.View)
		}
		if st, _ := c.State(1); !st.IsPrimary || st.View != 1 {
			c.Fatalf("R1 is no longer primary of view 1 (%v in view %d), though R0 hears it and stands behind it", st.Status, st.View)
		}
	}
	c.Unobserve("R0's view-change messages")
	c.Undrop("R1-R2 cut")
	cl.ReachMain()
	submitN(cl, 1, 0)
	c.WaitConverged(10 * time.Second)
}

// TestNewPrimaryFirstReadF: the first read at a new primary sees every
// write acknowledged before the old primary crashed, even the last one,
// which the backups hold but do not know is committed (R0's COMMITs are
// lost). The new primary's leases come at once, with the answers to its
// STARTVIEW; the acknowledgements of its log are lost for a while.
func TestNewPrimaryFirstReadF(t *testing.T) {
	c := harness.New(t, 3, "Test (F): a new primary's first read", withLeases())
	cl := c.NewClient()
	if p, _ := c.WaitPrimary(primaryTimeout); p != 0 {
		c.Fatalf("expected R0 primary of view 0, got R%d", p)
	}
	submitN(cl, 5, 0)
	c.Drop("R0's COMMITs", func(m vr.Message) bool { return m.From == 0 && m.Type == vr.MsgCommit })
	last := cl.Submit(cl.NextOp(0), opTimeout) // acknowledged; the backups know only op last-1 is committed
	c.Crash(0)
	c.Drop("PREPAREOKs", func(m vr.Message) bool { return m.Type == vr.MsgPrepareOK })

	var p int
	c.Eventually(2*primaryTimeout, "a new primary", func() (bool, string) {
		for _, i := range []int{1, 2} {
			if st, _ := c.State(i); st.IsPrimary {
				p = i
				return true, ""
			}
		}
		return false, "no primary among R1, R2"
	})
	// Raw reads, each from a client of its own, every 15 ms for the first
	// 120 ms of the view (the leases from the STARTVIEW hold 160 ms): the
	// first may arrive before the backup's COMMITOK does.
	replies := make(chan vr.RequestReply, 8)
	var wg sync.WaitGroup
	for i := 0; i < cap(replies); i++ {
		op := readOp(cl)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if reply, ok := cl.RawRead(p, int64(4242+i), 1, op); ok {
				replies <- reply
			}
		}()
		time.Sleep(15 * time.Millisecond)
	}
	wg.Wait()
	close(replies)
	for reply := range replies {
		if !reply.OK {
			continue
		}
		if n, err := strconv.Atoi(string(reply.Result)); err != nil || n < last {
			st, _ := c.State(p)
			c.Fatalf("a read at new primary R%d returned %q, but op %d completed (its client was answered) "+
				"before R0 crashed; R%d has committed op %d: a new primary serves no lease read before the log it inherited is "+
				"committed (LAB-F.md)", p, reply.Result, last, p, st.CommitNumber)
		}
	}
	c.Undrop("PREPAREOKs")
	c.Undrop("R0's COMMITs")
	if got := cl.Read(readOp(cl), opTimeout); got < last {
		c.Fatalf("a read at the new primary returned op-number %d; op %d completed before it began", got, last)
	}
	// While the PREPAREOKs were lost, the reads that went through the log
	// did not commit; if that lasted a view-change timeout, the backup's
	// commit watchdog rightly moved the group to another view (LAB-B.md).
	// The primary now is whichever leads the view the group is in.
	p, _ = c.WaitPrimary(primaryTimeout)
	requireLeaseReads(c, cl, p, 10, 8, last, fmt.Sprintf("once primary R%d committed its log", p))
	c.Restart(0)
	c.WaitRecovered(0, recoverTimeout)
	c.WaitConverged(5 * time.Second)
}

// TestReadFallbackF: with only one backup of four reachable, the primary
// of five holds fewer than f = 2 leases; a read must go through the log and
// wait, and complete once a quorum is back.
func TestReadFallbackF(t *testing.T) {
	c := harness.New(t, 5, "Test (F): reads fall back to the log", withLeases())
	cl := c.NewClient()
	p, _ := c.WaitPrimary(primaryTimeout)
	last := submitN(cl, 5, 0)
	requireLeaseReads(c, cl, p, 10, 8, last, "with every backup connected")
	b := (p + 1) % 5
	var gone []int
	for i := 0; i < 5; i++ {
		if i != p && i != b {
			gone = append(gone, i)
			c.Disconnect(i)
		}
	}
	c.Sleep(2 * leaseLength) // the leases of the backups cut off run out
	pending := make(chan error, 1)
	var got atomic.Int64
	go func() {
		n, err := cl.TryRead(readOp(cl), 3*opTimeout)
		got.Store(int64(n))
		pending <- err
	}()
	c.During(3*leaseLength, fmt.Sprintf("a read not to complete while R%d reaches only R%d (%v cut off)", p, b, gone), func() (bool, string) {
		select {
		case err := <-pending:
			return false, fmt.Sprintf("the read completed (op-number %d, err %v): a primary with one lease of the f = 2 it needs "+
				"answered from its state (or a read through the log committed without a quorum)", got.Load(), err)
		default:
			return true, ""
		}
	})
	c.Connect(gone[0]) // a quorum again: the primary, b and this one
	select {
	case err := <-pending:
		if err != nil {
			c.Fatalf("once a quorum was back: %v", err)
		}
	case <-time.After(3 * opTimeout):
		c.Fatalf("the read did not complete within %v of a quorum coming back", 3*opTimeout)
	}
	if n := int(got.Load()); n < last {
		c.Fatalf("the read returned op-number %d; op %d completed before it began", n, last)
	}
	for _, i := range gone[1:] {
		c.Connect(i)
	}
	c.WaitConverged(10 * time.Second)
}

// TestLeaseTooLongF: a lease not shorter than the view-change timeout is a
// bad configuration: StartNode returns an error that names the lease, and
// Make's Node takes part in nothing. A shorter one is fine.
func TestLeaseTooLongF(t *testing.T) {
	net := labrpc.MakeNetwork()
	defer net.Cleanup()
	ends := make([]*labrpc.ClientEnd, 3)
	for i := range ends {
		ends[i] = net.MakeEnd(fmt.Sprintf("end-%d", i))
	}
	for _, o := range []vr.Options{
		{LeaseTicks: vr.DefaultViewChangeTicks},
		{LeaseTicks: 3 * vr.DefaultViewChangeTicks},
		{LeaseTicks: 40, HeartbeatTicks: 5, ViewChangeTicks: 40},
	} {
		n, err := vr.StartNode(ends, 0, &leaseSM{}, o)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "lease") {
			n.Kill()
			t.Fatalf("StartNode with LeaseTicks %d and ViewChangeTicks %d: err = %v; expected an error naming the lease "+
				"(it must be shorter than the view-change timeout)", o.LeaseTicks, o.ViewChangeTicks, err)
		}
		m := vr.Make(ends, 0, &leaseSM{}, o)
		if m.Err() == nil {
			m.Kill()
			t.Fatalf("Make with LeaseTicks %d: Node.Err() is nil", o.LeaseTicks)
		}
		m.Kill()
		if st := m.State(); !st.Equal(vr.State{}) {
			t.Fatalf("Make with a bad lease made a Node in state %+v; it must take part in nothing", st)
		}
	}
	n, err := vr.StartNode(ends, 0, &leaseSM{}, vr.Options{LeaseTicks: vr.DefaultViewChangeTicks - 1})
	if err != nil {
		t.Fatalf("StartNode with LeaseTicks %d (ViewChangeTicks %d): %v", vr.DefaultViewChangeTicks-1, vr.DefaultViewChangeTicks, err)
	}
	n.Kill()
	fmt.Printf("Test (F): a lease must be shorter than the view-change timeout ... Passed -- %4.1fs 3 peers 0 rpcs 0 bytes 0 ops\n", 0.0)
}

// leaseSM is a service that is a Reader and does nothing.
type leaseSM struct{}

func (leaseSM) Apply([]byte) []byte { return nil }
func (leaseSM) Read([]byte) []byte  { return nil }
func (leaseSM) Snapshot() []byte    { return nil }
func (leaseSM) Restore([]byte)      {}

// TestHeartbeatAnswersF: backups answer the primary's heartbeats only with
// leases on. With leases on, each COMMIT gets one COMMITOK, which grants a
// lease from the COMMIT's stamp. With LeaseTicks 0 leases cost nothing:
// COMMITs carry no stamp and get no answer, so an idle group sends what it
// always did, and a read goes through the log.
func TestHeartbeatAnswersF(t *testing.T) {
	on := harness.New(t, 3, "Test (F): heartbeats answered, leases on", withLeases())
	p, _ := on.WaitPrimary(primaryTimeout)
	submitN(on.NewClient(), 3, 0)
	var mu sync.Mutex
	commits, answers, wrong := 0, 0, []string{}
	on.Observe("heartbeats", func(m vr.Message) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case m.Type == vr.MsgCommit && m.From == p:
			commits++
		case m.Type == vr.MsgCommitOK && m.To == p && m.Grant:
			answers++
		case m.Type == vr.MsgCommitOK && len(wrong) < 3:
			wrong = append(wrong, m.String())
		}
	})
	on.Sleep(time.Second)
	on.Unobserve("heartbeats")
	mu.Lock()
	if len(wrong) > 0 || commits < 10 || answers < commits*8/10 || answers > commits+2 {
		mu.Unlock()
		on.Fatalf("in 1 s of an idle group with leases on, the backups received %d COMMITs and primary R%d %d COMMITOKs granting a lease "+
			"(other COMMITOKs: %v); expected one granting COMMITOK per COMMIT: the answers to the heartbeats keep an idle primary's leases",
			commits, p, answers, wrong)
	}
	mu.Unlock()

	off := harness.New(t, 3, "Test (F): heartbeats unanswered, leases off")
	cl := off.NewClient()
	p, _ = off.WaitPrimary(primaryTimeout)
	last := submitN(cl, 3, 0)
	var bad []string
	off.Observe("lease traffic", func(m vr.Message) {
		mu.Lock()
		defer mu.Unlock()
		if (m.Type == vr.MsgCommitOK || m.SentAt != 0 || m.Grant) && len(bad) < 3 {
			bad = append(bad, m.String())
		}
	})
	off.Sleep(time.Second)
	if got := cl.Read(readOp(cl), opTimeout); got != last+1 {
		st, _ := off.State(p)
		off.Fatalf("with leases off a read returned op-number %d; it must go through the log and execute as op %d (the primary is at op %d)", got, last+1, st.OpNumber)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		off.Fatalf("with LeaseTicks 0 the replicas sent lease traffic: %s (without leases a heartbeat has no answer, and nothing is stamped)", strings.Join(bad, "; "))
	}
}

// TestStalePartitionF: the primary is cut off with a clerk that reaches
// only it; the majority elects a new primary and its clerk writes. The old
// primary stops answering Gets within its lease, and the combined history
// of both clerks is linearizable.
func TestStalePartitionF(t *testing.T) {
	k := newKVTest(t, 3, "Test (F): a partitioned primary stops serving reads", withLeases())
	ck := k.newClerk()
	p, _ := k.WaitPrimary(primaryTimeout)
	ck.put("x", "0")
	others := []int{(p + 1) % 3, (p + 2) % 3}
	old, fresh := k.newClerk(), k.newClerk()
	old.hc.ReachOnly(p)
	fresh.hc.ReachOnly(others...)
	old.checkGet("x", "0")

	var stop atomic.Bool
	var lastOld atomic.Int64 // when the last Get at the old primary completed, in the history's clock
	done := make(chan struct{})
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		defer close(done)
		for !stop.Load() && k.ctx.Err() == nil {
			if _, err := old.tryGet("x", 150*time.Millisecond); err == nil {
				lastOld.Store(k.hist.now())
			}
		}
	}()
	before, _ := k.State(p)
	k.Sleep(200 * time.Millisecond)
	after, _ := k.State(p)
	if grew := after.OpNumber - before.OpNumber; grew > 20 {
		k.Fatalf("in 200 ms before the cut, the Gets at primary R%d added %d ops to its log: they must be answered under its leases, "+
			"without a PREPARE (LAB-F.md)", p, grew)
	}
	cut := k.hist.now()
	k.Partition(others, []int{p})
	k.WaitPrimary(2 * primaryTimeout)
	for i := 1; i <= 5; i++ {
		fresh.put("x", fmt.Sprint(i))
	}
	k.Sleep(300 * time.Millisecond)
	stop.Store(true)
	<-done
	if late := time.Duration(lastOld.Load() - cut); late > 2*leaseLength+200*time.Millisecond {
		k.Fatalf("the old primary R%d answered a Get %v after it was cut off, while the majority moved on; its leases ran out "+
			"within %v: a primary without f unexpired leases must send reads through the log", p, late.Round(time.Millisecond), leaseLength)
	}
	k.Heal()
	k.finalReads(1)
	k.waitKVConverged(5 * time.Second)
	k.checkLinearizable()
}

// TestMixedUnreliableF: clerks run mostly Gets, with Puts and Appends, on an
// unreliable network while replicas crash and recover in turn; with leases
// on, the history stays linearizable.
func TestMixedUnreliableF(t *testing.T) {
	k := newKVTest(t, 3, "Test (F): mixed reads and writes, unreliable, crashes", withLeases(), harness.Unreliable())
	load := k.startLoad(loadSpec{clients: 4, keys: 3, opTimeout: 6 * opTimeout, pause: 10 * time.Millisecond, gets: 70})
	for i := 0; i < 3; i++ {
		load.waitProgress(20, 6*opTimeout)
		p, _ := k.WaitPrimary(2 * primaryTimeout)
		victim := (p + i) % 3 // the primary first, then backups
		k.Crash(victim)
		k.Sleep(300 * time.Millisecond)
		k.restartAll([]int{victim}, 3*recoverTimeout)
	}
	load.waitProgress(20, 6*opTimeout)
	load.finish()
	k.Reliable(true)
	k.finalReads(3)
	k.waitKVConverged(10 * time.Second)
	k.checkLinearizable()
	// Every write and every Get through the log is an op of the log: the
	// Gets that are not were answered under a lease.
	gets, writes := 0, 0
	for _, op := range k.hist.operations() {
		if op.Input.(kvvr.Op).Kind == kvvr.OpGet {
			gets++
		} else if op.Return != math.MaxInt64 {
			writes++
		}
	}
	p, _ := k.WaitPrimary(primaryTimeout)
	st, _ := k.State(p)
	leased := gets - (st.CommitNumber - writes)
	t.Logf("%d Gets, at least %d of them answered under a lease; %d writes", gets, leased, writes)
	if leased < gets/5 {
		k.Fatalf("of %d Gets, at most %d were answered under a lease (the log holds %d ops for %d completed writes); "+
			"expected at least a fifth: with leases on, most Gets must not go through the log", gets, max(leased, 0), st.CommitNumber, writes)
	}
}
