package vr

import (
	"math/rand"
	"reflect"
	"testing"
)

// countSM is a service that counts ops; copy it by value.
type countSM struct{ n int }

func (c *countSM) Apply(op []byte) []byte  { c.n++; return []byte{byte(c.n)} }
func (c *countSM) Snapshot() []byte        { return []byte{byte(c.n)} }
func (c *countSM) Restore(snapshot []byte) { c.n = int(snapshot[0]) }

// group is three replicas that deliver every message at once, in order.
type group struct {
	r  []*Replica
	sm []*countSM
}

func newGroup(t testing.TB) *group {
	g := &group{}
	for i := 0; i < 3; i++ {
		sm := &countSM{}
		r, err := NewReplica(i, 3, sm, Options{Seed: int64(i + 1), HeartbeatTicks: 1, ViewChangeTicks: 3})
		if err != nil {
			t.Fatal(err)
		}
		g.r, g.sm = append(g.r, r), append(g.sm, sm)
	}
	return g
}

func (g *group) clone() *group {
	c := &group{}
	for i, r := range g.r {
		sm := *g.sm[i]
		c.sm = append(c.sm, &sm)
		c.r = append(c.r, r.Clone(&sm))
	}
	return c
}

// run delivers every message until none is left; it returns them all.
func (g *group) run(in ...Message) []Message { return g.runDropping(nil, in...) }

// runDropping is run, except that the messages for which lost is true are
// lost (they are returned, not delivered).
func (g *group) runDropping(lost func(Message) bool, in ...Message) []Message {
	var seen []Message
	queue := in
	for _, r := range g.r {
		queue = append(queue, r.Outbox()...)
	}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		seen = append(seen, m)
		if m.To < 0 || lost != nil && lost(m) {
			continue
		}
		if err := g.r[m.To].Step(m); err != nil {
			panic(err)
		}
		queue = append(queue, g.r[m.To].Outbox()...)
	}
	return seen
}

func (g *group) fingerprints() []uint64 {
	var fs []uint64
	for _, r := range g.r {
		fs = append(fs, r.Fingerprint())
	}
	return fs
}

// script drives g through a view change and two requests.
func script(g *group) []Message {
	var seen []Message
	for i := 0; i < 8; i++ { // R1 times out (R0 does not tick: silent)
		g.r[1].Tick()
		seen = append(seen, g.run()...)
	}
	seen = append(seen, g.run(Message{Type: MsgRequest, To: 1, ClientID: 7, RequestNum: 1, Op: []byte("a")})...)
	seen = append(seen, g.run(Message{Type: MsgRequest, To: 1, ClientID: 7, RequestNum: 2, Op: []byte("b")})...)
	for i := 0; i < 3; i++ {
		for _, r := range g.r {
			r.Tick()
		}
		seen = append(seen, g.run()...)
	}
	return seen
}

// TestCloneIndependent: a clone behaves exactly as its original would, and
// neither sees what the other does.
func TestCloneIndependent(t *testing.T) {
	g := newGroup(t)
	fresh := g.fingerprints()
	script(g)
	before := g.fingerprints()
	if reflect.DeepEqual(fresh, before) {
		t.Fatalf("fingerprints did not change after a view change and requests: %x", before)
	}
	c := g.clone()
	if got := c.fingerprints(); !reflect.DeepEqual(got, before) {
		t.Fatalf("clone's fingerprints %x differ from the original's %x", got, before)
	}
	a, b := script(g), script(c)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("the clone sent other messages than the original:\n%v\n%v", a, b)
	}
	if !reflect.DeepEqual(g.fingerprints(), c.fingerprints()) {
		t.Fatalf("after the same steps, fingerprints differ: %x vs %x", g.fingerprints(), c.fingerprints())
	}
	// Now drive only the clone: the original must not move.
	mid := g.fingerprints()
	c.run(Message{Type: MsgRequest, To: c.primary(), ClientID: 7, RequestNum: 3, Op: []byte("c")})
	if !reflect.DeepEqual(g.fingerprints(), mid) {
		t.Fatalf("stepping the clone changed the original")
	}
	if reflect.DeepEqual(c.fingerprints(), mid) {
		t.Fatalf("a new request did not change the clone's fingerprints")
	}
	if g.r[1].State().OpNumber == c.r[1].State().OpNumber {
		t.Fatalf("original and clone share a log: both at op %d", g.r[1].State().OpNumber)
	}
}

func (g *group) primary() int {
	for i, r := range g.r {
		if r.State().IsPrimary {
			return i
		}
	}
	return 0
}

// TestCloneRand: a clone's generator draws what the original's would.
func TestCloneRand(t *testing.T) {
	g := newGroup(t)
	c := g.r[2].Clone(&countSM{})
	c2 := c.Clone(&countSM{})
	// The generator NewReplica made: what every one of them must draw. Uint64
	// and Intn (Int63) draws mixed, in different orders in different clones,
	// since they share one sequence (see seqSource).
	want := rand.New(rand.NewSource(3)) // NewReplica draws nothing: a normal replica's timeout is fixed
	for i := 0; i < 5; i++ {
		w, a, b := want.Uint64(), g.r[2].rand.Uint64(), c.rand.Uint64()
		if a != w || b != w {
			t.Fatalf("draw %d: want %d, original %d, clone %d", i, w, a, b)
		}
		wn := want.Intn(1000)
		if a, b := g.r[2].rand.Intn(1000), c.rand.Intn(1000); a != wn || b != wn {
			t.Fatalf("draw %d: want Intn %d, original %d, clone %d", i, wn, a, b)
		}
	}
	want = rand.New(rand.NewSource(3))
	for i := 0; i < 5; i++ { // c2 draws after the others: the same numbers
		if w, d := want.Uint64(), c2.rand.Uint64(); w != d {
			t.Fatalf("draw %d: want %d, clone of clone %d", i, w, d)
		}
		if w, d := want.Intn(1000), c2.rand.Intn(1000); w != d {
			t.Fatalf("draw %d: want Intn %d, clone of clone %d", i, w, d)
		}
	}
	// Different timeouts are the same state (see clone.go).
	g.r[2].viewChangeTimeout++
	if g.r[2].Fingerprint() == c.Fingerprint() {
		t.Fatalf("a different timeout did not change the fingerprint")
	}
}

func BenchmarkCloneFingerprint(b *testing.B) {
	g := newGroup(b)
	script(g)
	r := g.r[1]
	b.ReportAllocs()
	for b.Loop() {
		c := r.Clone(&countSM{})
		_ = c.Fingerprint()
	}
}
