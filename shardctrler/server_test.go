package shardctrler

import (
	"errors"
	"math/rand"
	"reflect"
	"testing"
)

// apply runs one op on sm and decodes its result.
func apply(t *testing.T, sm *stateMachine, b []byte, query bool) (Config, error) {
	t.Helper()
	return decodeResult(sm.Apply(b), query)
}

func mustQuery(t *testing.T, sm *stateMachine, num int) Config {
	t.Helper()
	c, err := apply(t, sm, encodeQuery(num), true)
	if err != nil {
		t.Fatalf("Query(%d): %v", num, err)
	}
	return c
}

func TestInitialConfig(t *testing.T) {
	sm := newStateMachine()
	for _, num := range []int{0, -1, 1, 100} {
		c := mustQuery(t, sm, num)
		if c.Num != 0 || c.Shards != [NShards]int{} || len(c.Groups) != 0 || c.Groups == nil {
			t.Fatalf("Query(%d) on a fresh service = %+v; want configuration 0: no groups (an empty map), every shard on 0", num, c)
		}
	}
}

func TestQueryHistoryAndCopies(t *testing.T) {
	sm := newStateMachine()
	servers := map[int][]string{1: {"a", "b"}, 2: {"c"}}
	if _, err := apply(t, sm, encodeJoin(servers), false); err != nil {
		t.Fatal(err)
	}
	servers[1][0] = "changed by the caller" // the op is bytes: no effect
	if _, err := apply(t, sm, encodeLeave([]int{2}), false); err != nil {
		t.Fatal(err)
	}
	c1 := mustQuery(t, sm, 1)
	if c1.Num != 1 || !reflect.DeepEqual(c1.Groups, map[int][]string{1: {"a", "b"}, 2: {"c"}}) {
		t.Fatalf("Query(1) = %+v", c1)
	}
	c1.Groups[1][0] = "mutated"
	c1.Groups[7] = []string{"x"}
	delete(c1.Groups, 2)
	if again := mustQuery(t, sm, 1); !reflect.DeepEqual(again.Groups, map[int][]string{1: {"a", "b"}, 2: {"c"}}) {
		t.Fatalf("changing a returned Config changed the service: Query(1) now %+v", again)
	}
	for _, num := range []int{-1, 2, 3, 1 << 40} {
		if c := mustQuery(t, sm, num); c.Num != 2 || c.Shards != [NShards]int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1} {
			t.Fatalf("Query(%d) = %+v; want the latest, configuration 2, all shards on gid 1", num, c)
		}
	}
	// query itself may share memory, but the copy helper must not.
	c := sm.configs[1].Copy()
	c.Groups[1][1] = "mutated"
	if sm.configs[1].Groups[1][1] != "b" {
		t.Fatal("Config.Copy shares the server lists")
	}
}

func TestRejectedOps(t *testing.T) {
	sm := newStateMachine()
	if _, err := apply(t, sm, encodeJoin(map[int][]string{1: {"a"}}), false); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"join of an existing gid":  encodeJoin(map[int][]string{1: {"z"}, 2: {"y"}}),
		"leave of an unknown gid":  encodeLeave([]int{1, 5}),
		"move to an unknown gid":   encodeMove(3, 5),
		"move of a shard too high": encodeMove(NShards, 1),
		"join of gid 0":            encodeJoin(map[int][]string{0: {"z"}}),
		"leave twice":              encodeLeave([]int{1, 1}),
		"empty join":               encodeJoin(nil),
		"empty leave":              encodeLeave(nil),
	} {
		_, err := apply(t, sm, b, false)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if c := mustQuery(t, sm, -1); c.Num != 1 {
			t.Fatalf("%s: the refused op made configuration %d", name, c.Num)
		}
	}
	if _, err := apply(t, sm, encodeMove(3, 1), false); err != nil {
		t.Fatalf("a valid Move: %v", err)
	}
	_, err := apply(t, sm, encodeLeave([]int{9}), false)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("Leave of an unknown gid: error %v; want ErrRejected", err)
	}
}

// TestMalformedOps: Apply never panics and never changes the state on
// bytes that are not an op.
func TestMalformedOps(t *testing.T) {
	sm := newStateMachine()
	if _, err := apply(t, sm, encodeJoin(map[int][]string{1: {"a"}, 2: {"b"}}), false); err != nil {
		t.Fatal(err)
	}
	want := sm.Snapshot()
	rng := rand.New(rand.NewSource(1))
	valid := [][]byte{encodeJoin(map[int][]string{3: {"c", "d"}}), encodeLeave([]int{1}), encodeMove(1, 2), encodeQuery(1)}
	for i := 0; i < 20000; i++ {
		var b []byte
		if i%2 == 0 {
			b = make([]byte, rng.Intn(20))
			rng.Read(b)
		} else { // a valid op, truncated or with a byte changed or added
			b = append([]byte(nil), valid[rng.Intn(len(valid))]...)
			switch rng.Intn(3) {
			case 0:
				b = b[:rng.Intn(len(b))]
			case 1:
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			case 2:
				b = append(b, byte(rng.Intn(256)))
			}
		}
		res := sm.Apply(b)
		if len(res) == 0 {
			t.Fatalf("Apply(%x) returned no result", b)
		}
		if res[0] == resultOK && b[0] != byte(opQuery) {
			sm = newStateMachine() // a mutation that still decodes: start over
			apply(t, sm, encodeJoin(map[int][]string{1: {"a"}, 2: {"b"}}), false)
			continue
		}
		if string(sm.Snapshot()) != string(want) {
			t.Fatalf("Apply(%x) = %q changed the state", b, res)
		}
	}
}

func FuzzApply(f *testing.F) {
	f.Add(encodeJoin(map[int][]string{1: {"a"}}))
	f.Add(encodeLeave([]int{1}))
	f.Add(encodeMove(2, 1))
	f.Add(encodeQuery(-1))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		sm := newStateMachine()
		sm.Apply(encodeJoin(map[int][]string{1: {"a"}}))
		if res := sm.Apply(b); len(res) == 0 {
			t.Fatal("no result")
		}
		sm.Restore(sm.Snapshot())
	})
}

func TestSnapshotRestore(t *testing.T) {
	sm := newStateMachine()
	for _, b := range randomOps(rand.New(rand.NewSource(7)), 25, true) {
		sm.Apply(b)
	}
	snap := sm.Snapshot()
	other := newStateMachine()
	other.Apply(encodeJoin(map[int][]string{99: {"old"}}))
	other.Restore(snap)
	if !reflect.DeepEqual(other.configs, sm.configs) {
		t.Fatal("Restore(Snapshot()) gave different configurations")
	}
	if string(other.Snapshot()) != string(snap) {
		t.Fatal("the snapshot of a restored state differs from the original snapshot")
	}
	// Restored state is independent of the snapshot's bytes and of sm.
	other.Apply(encodeJoin(map[int][]string{500: {"new"}}))
	if string(sm.Snapshot()) != string(snap) {
		t.Fatal("changing a restored state changed the original")
	}
}

// TestSnapshotDeterministic: the same configurations, built with maps filled
// in different orders, give the same bytes.
func TestSnapshotDeterministic(t *testing.T) {
	build := func(order []int) []byte {
		groups := map[int][]string{}
		for _, gid := range order {
			groups[gid] = []string{"s", "t"}
		}
		sm := &stateMachine{configs: []Config{{Groups: map[int][]string{}}, {Num: 1, Groups: groups}}}
		return sm.Snapshot()
	}
	want := build([]int{1, 2, 3, 4, 5, 6, 7, 8})
	for i := 0; i < 20; i++ {
		order := rand.New(rand.NewSource(int64(i))).Perm(8)
		for j := range order {
			order[j]++
		}
		if got := build(order); string(got) != string(want) {
			t.Fatalf("insertion order %v gave a different snapshot", order)
		}
	}
}
