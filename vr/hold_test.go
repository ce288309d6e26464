package vr_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"vrlab/vr"
)

// memNet connects Nodes in memory. A message its capture rule matches is
// kept, not delivered; the test hands it over when it chooses.
type memNet struct {
	mu       sync.Mutex
	nodes    []*vr.Node
	capture  func(m vr.Message) bool
	captured []vr.Message
}

type memEnd struct{ net *memNet }

func (e memEnd) Send(to int, m vr.Message) {
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

func (net *memNet) setCapture(rule func(m vr.Message) bool) {
	net.mu.Lock()
	defer net.mu.Unlock()
	net.capture = rule
}

func (net *memNet) takeCaptured() []vr.Message {
	net.mu.Lock()
	defer net.mu.Unlock()
	out := net.captured
	net.captured = nil
	return out
}

type counter struct{ n int }

func (c *counter) Apply([]byte) []byte { c.n++; return []byte{byte(c.n)} }
func (c *counter) Snapshot() []byte    { return []byte{byte(c.n)} }
func (c *counter) Restore(snap []byte) { c.n = int(snap[0]) }

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
func changingToView1(t *testing.T) (*memNet, []*vr.Node) {
	net := &memNet{}
	nodes := make([]*vr.Node, 3)
	net.mu.Lock()
	for i := range nodes {
		n, err := vr.NewNode(i, 3, &counter{}, vr.Options{Seed: int64(i + 1), ViewChangeTicks: 60}, memEnd{net})
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
	net.setCapture(func(m vr.Message) bool { return m.Type == vr.MsgDoViewChange && m.To == 1 })
	nodes[0].Kill()
	waitFor(t, "R1 changing to view 1 with R2's DOVIEWCHANGE captured", func() (bool, string) {
		st := nodes[1].State()
		net.mu.Lock()
		captured := len(net.captured)
		net.mu.Unlock()
		return st.Status == vr.ViewChange && st.View == 1 && captured > 0,
			fmt.Sprintf("R1 %v in view %d, %d DOVIEWCHANGEs captured", st.Status, st.View, captured)
	})
	return net, nodes
}

// submit hands a request to n and returns where its reply will arrive.
func submit(n *vr.Node, num int) <-chan vr.RequestReply {
	ch := make(chan vr.RequestReply, 1)
	n.Submit(vr.RequestArgs{ClientID: 7, RequestNum: num, Op: []byte("x")}, func(r vr.RequestReply) { ch <- r })
	return ch
}

// TestRequestHeldThroughViewChange: a request that reaches the replica
// changing to a view it will lead is held, and taken as soon as the view
// starts, instead of being turned away with a NOTPRIMARY that sends the
// client into its retry pause (hold.go).
func TestRequestHeldThroughViewChange(t *testing.T) {
	net, nodes := changingToView1(t)
	reply := submit(nodes[1], 1)
	net.setCapture(nil)
	for _, m := range net.takeCaptured() {
		nodes[1].Deliver(m) // stepped after the request: the inbox keeps order
	}
	select {
	case r := <-reply:
		if !r.OK {
			t.Fatalf("the request was answered %+v; expected it held until view 1 started, then executed", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer within 5s")
	}
}

// TestHeldRequestAnsweredWhenViewChangeStalls: a view change that does not
// finish ends the hold: the request gets the NOTPRIMARY it was held with,
// long before the Node's own wait for a reply would end with nothing.
func TestHeldRequestAnsweredWhenViewChangeStalls(t *testing.T) {
	_, nodes := changingToView1(t)
	reply := submit(nodes[1], 1)
	select {
	case r := <-reply:
		if !r.NotPrimary {
			t.Fatalf("the request was answered %+v; expected NOTPRIMARY (naming R1, primary of view 1) once the hold ran out", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer within 5s")
	}
}
