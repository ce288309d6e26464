package vr

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// silentTransport loses every message: the Node's peers never answer.
type silentTransport struct{}

func (silentTransport) Send(int, Message) {}

// TestKillAnswersEveryWait: requests that can never commit (the backups are
// silent) are answered with nothing when the Node is killed, exactly once
// each; so are requests submitted after Kill. A server counting on the
// callbacks (vrnet's request slots) is never left waiting.
func TestKillAnswersEveryWait(t *testing.T) {
	n, err := NewNode(0, 3, &counterSM{}, Options{Seed: 1}, silentTransport{})
	require.NoError(t, err)
	var calls, empty atomic.Int64
	done := func(r RequestReply) {
		calls.Add(1)
		if !r.OK && !r.NotPrimary {
			empty.Add(1)
		}
	}
	for i := 1; i <= 50; i++ {
		n.Submit(RequestArgs{ClientID: int64(i), RequestNum: 1, Op: []byte("x")}, done)
	}
	require.Zero(t, calls.Load(), "nothing can commit without the backups")
	n.Kill()
	require.Equal(t, int64(50), calls.Load(), "Kill must answer every waiting request")
	require.Equal(t, int64(50), empty.Load(), "with an empty reply")

	n.Submit(RequestArgs{ClientID: 99, RequestNum: 1}, done)
	require.Equal(t, int64(51), calls.Load(), "a request after Kill is answered at once")
	r := n.Request(context.Background(), RequestArgs{ClientID: 100, RequestNum: 1})
	require.False(t, r.OK || r.NotPrimary)
}

// TestWaitsExpire: a request that gets no reply is answered with nothing
// after requestWait (give or take a tick), exactly once.
func TestWaitsExpire(t *testing.T) {
	n, err := NewNode(0, 3, &counterSM{}, Options{Seed: 1}, silentTransport{})
	require.NoError(t, err)
	defer n.Kill()
	var calls atomic.Int64
	n.Submit(RequestArgs{ClientID: 1, RequestNum: 1, Op: []byte("x")}, func(RequestReply) { calls.Add(1) })
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, 10*time.Millisecond,
		"the wait never expired")
	time.Sleep(3 * TickInterval)
	require.Equal(t, int64(1), calls.Load(), "answered more than once")
}
