package vr

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Batching, step by step on a three-replica group driven by hand: replica 0
// is the primary of view 0; messages move only when the test says so.

type counterSM struct{ n int }

func (s *counterSM) Apply(op []byte) []byte { s.n++; return []byte(fmt.Sprint(s.n)) }
func (s *counterSM) Snapshot() []byte       { return []byte(fmt.Sprint(s.n)) }
func (s *counterSM) Restore(b []byte)       { fmt.Sscan(string(b), &s.n) }

type handGroup struct {
	t    *testing.T
	reps []*Replica
	net  []Message // sent, not yet delivered (replica to replica)
}

func newHandGroup(t *testing.T, opts Options) *handGroup {
	g := &handGroup{t: t}
	for i := 0; i < 3; i++ {
		opts.Seed = int64(i + 1)
		r, err := NewReplica(i, 3, &counterSM{}, opts)
		require.NoError(t, err)
		g.reps = append(g.reps, r)
	}
	return g
}

// collect moves every replica's outbox onto the network (client replies
// are dropped: the tests look at replicas).
func (g *handGroup) collect() {
	for _, r := range g.reps {
		for _, m := range r.Outbox() {
			if m.To != ToClient {
				g.net = append(g.net, m)
			}
		}
	}
}

// request gives the primary a request from a fresh client.
func (g *handGroup) request(client int64, op []byte) {
	require.NoError(g.t, g.reps[0].Step(Message{Type: MsgRequest, ClientID: client, RequestNum: 1, Op: op}))
	g.collect()
}

// take removes and returns the messages on the network that match.
func (g *handGroup) take(match func(Message) bool) []Message {
	var got, rest []Message
	for _, m := range g.net {
		if match(m) {
			got = append(got, m)
		} else {
			rest = append(rest, m)
		}
	}
	g.net = rest
	return got
}

func (g *handGroup) deliver(ms []Message) {
	for _, m := range ms {
		require.NoError(g.t, g.reps[m.To].Step(m))
		g.collect()
	}
}

// prepares takes the PREPAREs to backup 1, so the test can count them.
func (g *handGroup) prepares() []Message {
	return g.take(func(m Message) bool { return m.Type == MsgPrepare && m.To == 1 })
}

// settle delivers everything until the network is empty.
func (g *handGroup) settle() {
	for i := 0; len(g.net) > 0; i++ {
		require.Less(g.t, i, 10000, "messages still flowing after 10000 rounds")
		ms := g.net
		g.net = nil
		g.deliver(ms)
	}
}

func sizes(ms []Message) []int {
	var n []int
	for _, m := range ms {
		n = append(n, len(m.Entries))
	}
	return n
}

func TestBatchGathersBehindInFlight(t *testing.T) {
	g := newHandGroup(t, Options{})
	g.request(1, []byte("a"))
	first := g.prepares()
	require.Equal(t, []int{1}, sizes(first), "a request with nothing in flight is prepared at once, alone")

	for c := int64(2); c <= 21; c++ {
		g.request(c, []byte("b"))
	}
	require.Empty(t, g.prepares(), "requests arriving while op 1 is in flight must wait for it")

	// Backup 1 gets op 1 and acknowledges it: op 1 commits, and the 20
	// requests that gathered go in one PREPARE.
	g.deliver(first)
	g.deliver(g.take(func(m Message) bool { return m.Type == MsgPrepareOK }))
	batch := g.prepares()
	require.Equal(t, []int{20}, sizes(batch), "the commit of op 1 sends everything gathered in one PREPARE")
	require.Equal(t, 1, batch[0].LogStart)
	require.Equal(t, 21, batch[0].OpNumber)
	require.Equal(t, 1, batch[0].CommitNumber)
	for i, e := range batch[0].Entries {
		require.Equal(t, int64(i+2), e.ClientID, "ops keep their own op-numbers, in arrival order")
	}

	g.deliver(batch)
	g.settle()
	for i := 0; i < 3; i++ {
		g.reps[i].Tick() // the primary's tick tells the backups the commit-number
		g.collect()
	}
	g.settle()
	for i, r := range g.reps {
		st := r.State()
		require.Equal(t, 21, st.CommitNumber, "replica %d", i)
		require.Equal(t, 21, st.Executed, "replica %d", i)
	}
}

func TestBatchingOff(t *testing.T) {
	g := newHandGroup(t, Options{MaxBatchOps: 1})
	for c := int64(1); c <= 10; c++ {
		g.request(c, []byte("x"))
	}
	require.Equal(t, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, sizes(g.prepares()), "MaxBatchOps 1: a PREPARE per request, at once")
}

func TestBatchBounds(t *testing.T) {
	t.Run("ops", func(t *testing.T) {
		g := newHandGroup(t, Options{MaxBatchOps: 8})
		for c := int64(1); c <= 21; c++ {
			g.request(c, []byte("x"))
		}
		// Op 1 alone; then a full batch of 8 goes without waiting, twice;
		// the last 4 wait for a commit.
		require.Equal(t, []int{1, 8, 8}, sizes(g.prepares()))
	})
	t.Run("bytes", func(t *testing.T) {
		g := newHandGroup(t, Options{MaxBatchBytes: 100})
		for c := int64(1); c <= 10; c++ {
			g.request(c, bytes.Repeat([]byte("y"), 30))
		}
		// 4 ops of 30 bytes reach 100 bytes: that batch goes.
		require.Equal(t, []int{1, 4, 4}, sizes(g.prepares()))
	})
}

func TestBatchHeldOpsWaitBoundedTicks(t *testing.T) {
	g := newHandGroup(t, Options{})
	g.request(1, []byte("a"))
	g.request(2, []byte("b"))
	g.request(3, []byte("c"))
	require.Equal(t, []int{1}, sizes(g.prepares()))
	// Op 1's PREPAREs (or their acks) are lost: the held ops must not wait
	// for the idle heartbeat to notice.
	g.net = nil
	for i := 1; i < batchWaitTicks; i++ {
		g.reps[0].Tick()
		g.collect()
		require.Empty(t, g.prepares(), "held ops go after %d ticks, not %d", batchWaitTicks, i)
	}
	g.reps[0].Tick()
	g.collect()
	got := g.prepares()
	require.Equal(t, []int{2}, sizes(got), "%d ticks later the held ops are prepared", batchWaitTicks)
	require.Equal(t, 1, got[0].LogStart)
}

func TestBatchInvalidOptions(t *testing.T) {
	_, err := NewReplica(0, 3, &counterSM{}, Options{MaxBatchOps: -1})
	require.ErrorContains(t, err, "MaxBatchOps")
	_, err = NewReplica(0, 3, &counterSM{}, Options{MaxBatchBytes: -5})
	require.ErrorContains(t, err, "MaxBatchBytes")
}
