package vr

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// memNet connects Nodes in memory. A message its capture rule matches is
// kept, not delivered; the test hands it over when it chooses.
type memNet struct {
	mu       sync.Mutex
	nodes    []*Node
	capture  func(m Message) bool
	captured []Message
}

type memEnd struct{ net *memNet }

func (e memEnd) Send(to int, m Message) {
	net := e.net
	net.mu.Lock()
	if net.capture != nil && net.capture(m) {
		net.captured = append(net.captured, m)
		net.mu.Unlock()
		return
	}
	n := net.nodes[to]
	net.mu.Unlock()
	go n.Deliver(m) // Send must not block; the Node is free to drop
}

func (net *memNet) setCapture(rule func(m Message) bool) {
	net.mu.Lock()
	defer net.mu.Unlock()
	net.capture = rule
}

func (net *memNet) takeCaptured() []Message {
	net.mu.Lock()
	defer net.mu.Unlock()
	out := net.captured
	net.captured = nil
	return out
}

func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s; saw %s", what, seen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// changingToView1 starts three Nodes, waits for R0 to lead view 0, kills it,
// and returns once R1, the primary of view 1, is in the view change with
// R2's DOVIEWCHANGE captured (so the view cannot start without the test).
// The view-change timeout (600 ms at least) outlasts the Node's wait for a
// reply (400 ms), so R1 stays in this view change while a request waits.
func changingToView1(t *testing.T) (*memNet, []*Node) {
	net := &memNet{}
	nodes := make([]*Node, 3)
	net.mu.Lock()
	for i := range nodes {
		n, err := NewNode(i, 3, &countSM{}, Options{Seed: int64(i + 1), ViewChangeTicks: 60}, memEnd{net})
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
	}
	net.nodes = nodes
	net.mu.Unlock()
	t.Cleanup(func() {
		for _, n := range nodes {
			n.Kill()
		}
	})
	waitFor(t, "R0 primary of view 0", func() (bool, string) {
		st := nodes[0].State()
		return st.IsPrimary && st.View == 0, st.Status.String()
	})
	net.setCapture(func(m Message) bool { return m.Type == MsgDoViewChange && m.To == 1 })
	nodes[0].Kill()
	waitFor(t, "R1 changing to view 1 with R2's DOVIEWCHANGE captured", func() (bool, string) {
		st := nodes[1].State()
		net.mu.Lock()
		captured := len(net.captured)
		net.mu.Unlock()
		return st.Status == ViewChange && st.View == 1 && captured > 0,
			fmt.Sprintf("R1 %v in view %d, %d DOVIEWCHANGEs captured", st.Status, st.View, captured)
	})
	return net, nodes
}

// submitOne hands a request to n and returns where its reply will arrive.
func submitOne(n *Node, num int) <-chan RequestReply {
	ch := make(chan RequestReply, 1)
	n.Submit(RequestArgs{ClientID: 7, RequestNum: num, Op: []byte("x")}, func(r RequestReply) { ch <- r })
	return ch
}

// await is the reply that arrives on ch, within 5 s.
func await(t *testing.T, ch <-chan RequestReply) RequestReply {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no answer to the request within 5s")
		return RequestReply{}
	}
}

// TestRequestHeldThroughViewChange: a request that reaches the replica
// changing to a view it will lead is held, and taken as soon as the view
// starts, instead of being turned away with a NOTPRIMARY that sends the
// client into its retry pause (hold.go).
func TestRequestHeldThroughViewChange(t *testing.T) {
	net, nodes := changingToView1(t)
	reply := submitOne(nodes[1], 1)
	net.setCapture(nil)
	for _, m := range net.takeCaptured() {
		nodes[1].Deliver(m) // stepped after the request: the inbox keeps order
	}
	if r := await(t, reply); !r.OK {
		t.Fatalf("the request was answered %+v; expected it held until view 1 started, then executed", r)
	}
}

// TestHeldRequestAnsweredWhenViewChangeStalls: a view change that does not
// finish ends the hold: the request gets the NOTPRIMARY it was held with,
// long before the Node's own wait for a reply would end with nothing.
func TestHeldRequestAnsweredWhenViewChangeStalls(t *testing.T) {
	_, nodes := changingToView1(t)
	reply := submitOne(nodes[1], 1)
	if r := await(t, reply); !r.NotPrimary {
		t.Fatalf("the request was answered %+v; expected NOTPRIMARY (naming R1, primary of view 1) once the hold ran out", r)
	}
}
