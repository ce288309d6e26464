package vr

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Leases (lease.go), step by step on a hand-driven group of three.

// readSM is counterSM with a Reader: a read returns the ops applied so far.
type readSM struct{ counterSM }

func (s *readSM) Read([]byte) []byte { return []byte(fmt.Sprint("read ", s.n)) }

func newLeaseGroup(t *testing.T, lease int) *handGroup {
	g := &handGroup{t: t}
	for i := 0; i < 3; i++ {
		r, err := NewReplica(i, 3, &readSM{}, Options{Seed: int64(i + 1), LeaseTicks: lease})
		require.NoError(t, err)
		g.reps = append(g.reps, r)
	}
	return g
}

// tickPrimary ticks replica 0 n times and collects what it sends.
func (g *handGroup) tickPrimary(n int) {
	for range n {
		g.reps[0].Tick()
	}
	g.collect()
}

// read gives the primary a read-only request and returns its outbox.
func (g *handGroup) read(client int64) []Message {
	require.NoError(g.t, g.reps[0].Step(Message{Type: MsgRequest, ClientID: client, RequestNum: 1, Op: []byte("r"), ReadOnly: true}))
	return g.reps[0].Outbox()
}

func types(ms []Message) []MsgType {
	var out []MsgType
	for _, m := range ms {
		out = append(out, m.Type)
	}
	return out
}

// TestLeaseReadFromHeartbeat: COMMITOKs answering a heartbeat give the
// primary its leases; it then answers a read from its state, sending
// nothing; once the leases run out, the read goes through the log.
func TestLeaseReadFromHeartbeat(t *testing.T) {
	g := newLeaseGroup(t, 20)
	g.tickPrimary(DefaultHeartbeatTicks) // a COMMIT to each backup, stamped at tick 10
	commits := g.take(func(m Message) bool { return m.Type == MsgCommit })
	require.Len(t, commits, 2)
	require.Equal(t, 10, commits[0].SentAt)
	g.deliver(commits)
	oks := g.take(func(m Message) bool { return m.Type == MsgCommitOK })
	require.Len(t, oks, 2)
	for _, ok := range oks {
		require.True(t, ok.Grant)
		require.Equal(t, 10, ok.SentAt)
	}
	g.deliver(oks)

	out := g.read(100)
	require.Equal(t, []MsgType{MsgReply}, types(out), "a read under leases is answered at once, with no PREPARE")
	require.Equal(t, "read 0", string(out[0].Result))

	// The lease holds until tick 10 + 20 − margin(20) = 26.
	g.tickPrimary(26 - 10 - 1)
	g.net = nil // the next heartbeat's answers are lost
	require.Equal(t, []MsgType{MsgReply}, types(g.read(101)), "at tick 25 the lease still holds")
	g.reps[0].Tick()
	out = g.read(102)
	require.Contains(t, types(out), MsgPrepare, "at tick 26 the lease has run out: the read goes through the log")
}

// TestLeaseCountsFromSend: an answer that arrives late grants what is left
// of the lease counted from the send, not a whole lease from the arrival.
func TestLeaseCountsFromSend(t *testing.T) {
	g := newLeaseGroup(t, 20)
	g.tickPrimary(DefaultHeartbeatTicks)
	g.deliver(g.take(func(m Message) bool { return m.Type == MsgCommit }))
	oks := g.take(func(m Message) bool { return m.Type == MsgCommitOK })
	g.tickPrimary(15) // tick 25: the answers arrive now
	g.net = nil
	g.deliver(oks)
	require.Equal(t, []MsgType{MsgReply}, types(g.read(100)))
	g.reps[0].Tick() // tick 26
	require.Contains(t, types(g.read(101)), MsgPrepare, "a lease from tick 10 ends at tick 26, whenever its grant arrived")
}

// TestPromiseKept: a backup that granted a lease joins no view change
// until the lease's length has passed on its own clock, then joins.
func TestPromiseKept(t *testing.T) {
	g := newLeaseGroup(t, 20)
	g.tickPrimary(DefaultHeartbeatTicks)
	g.deliver(g.take(func(m Message) bool { return m.Type == MsgCommit && m.To == 1 }))
	g.net = nil
	b := g.reps[1]
	svc := Message{Type: MsgStartViewChange, From: 2, To: 1, View: 1}
	for range 20 {
		require.NoError(t, b.Step(svc))
		require.Empty(t, b.Outbox(), "a backup keeping its promise sends nothing for a view change")
		require.Equal(t, Normal, b.State().Status)
		b.Tick()
	}
	require.NoError(t, b.Step(svc))
	require.Equal(t, ViewChange, b.State().Status, "20 ticks after granting, the promise is over")
}

// TestLeaseOptions: a lease as long as the view-change timeout is refused,
// and so is a negative one.
func TestLeaseOptions(t *testing.T) {
	for _, o := range []Options{{LeaseTicks: DefaultViewChangeTicks}, {LeaseTicks: 50, ViewChangeTicks: 40}, {LeaseTicks: -1}} {
		_, err := NewReplica(0, 3, &readSM{}, o)
		require.ErrorContains(t, err, "lease", "%+v", o)
	}
	_, err := NewReplica(0, 3, &readSM{}, Options{LeaseTicks: DefaultViewChangeTicks - 1})
	require.NoError(t, err)
}

// TestLeasesOff: without leases nothing is stamped, a heartbeat gets no
// answer, and a read goes through the log.
func TestLeasesOff(t *testing.T) {
	g := newLeaseGroup(t, 0)
	g.tickPrimary(DefaultHeartbeatTicks)
	commits := g.take(func(m Message) bool { return m.Type == MsgCommit })
	require.Len(t, commits, 2)
	require.Zero(t, commits[0].SentAt)
	g.deliver(commits)
	require.Empty(t, g.net, "with leases off, a COMMIT has no answer")
	require.Contains(t, types(g.read(100)), MsgPrepare)
}

// TestNewPrimaryInheritedLog: a new primary holding leases (granted with
// the answers to its STARTVIEW) serves no lease read before the log it
// inherited is committed.
func TestNewPrimaryInheritedLog(t *testing.T) {
	g := newLeaseGroup(t, 20)
	g.request(7, []byte("w"))
	g.deliver(g.take(func(m Message) bool { return m.Type == MsgPrepare })) // both backups hold op 1, uncommitted
	g.net = nil
	// View 1, primary R1, from R1 and R2 (R0 is gone).
	p, b := g.reps[1], g.reps[2]
	for _, r := range []*Replica{p, b} {
		for r.State().Status == Normal {
			r.Tick()
		}
	}
	g.collect()
	g.deliver(g.take(func(m Message) bool { return m.To != 0 && m.Type != MsgPrepareOK }))
	for range 5 {
		g.deliver(g.take(func(m Message) bool { return m.To != 0 && m.Type != MsgPrepareOK }))
	}
	require.True(t, p.State().IsPrimary)
	require.Equal(t, 0, p.State().CommitNumber)
	require.Positive(t, p.leasesHeld(), "R2's COMMITOK answering the STARTVIEW granted a lease")
	require.NoError(t, p.Step(Message{Type: MsgRequest, ClientID: 9, RequestNum: 1, Op: []byte("r"), ReadOnly: true}))
	require.NotContains(t, types(p.Outbox()), MsgReply, "op 1 is not committed in view 1 yet: no lease read")
	require.NoError(t, p.Step(Message{Type: MsgPrepareOK, From: 2, To: 1, View: 1, OpNumber: 2}))
	require.Equal(t, 2, p.State().CommitNumber)
	p.Outbox()
	require.NoError(t, p.Step(Message{Type: MsgRequest, ClientID: 10, RequestNum: 1, Op: []byte("r"), ReadOnly: true}))
	out := p.Outbox()
	require.Equal(t, []MsgType{MsgReply}, types(out), "the inherited log is committed: lease reads")
	require.Equal(t, "read 2", string(out[0].Result))
}

// TestRestartKeepsPromise: a restarted replica keeps the promise of a grant
// it may have made just before its crash.
func TestRestartKeepsPromise(t *testing.T) {
	r, err := NewReplica(1, 3, &readSM{}, Options{Seed: 1, LeaseTicks: 20, Recovering: true})
	require.NoError(t, err)
	require.True(t, r.promised())
	for range 20 {
		r.Tick()
	}
	require.False(t, r.promised())
}
