package tests

// Part KV: a replicated key/value service on VR. See LAB-KV.md.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"vrlab/kvvr"
	"vrlab/kvvr/kvmodel"
	"vrlab/labrpc"
	"vrlab/tests/harness"
	"vrlab/vr"
)

// TestBasicKV: one clerk's Gets, Puts and Appends, a second clerk seeing
// them, a missing key, odd bytes; the group goes on without one backup, and
// every replica ends with the same state.
func TestBasicKV(t *testing.T) {
	k := newKVTest(t, 3, "Test (KV): basic Get/Put/Append")
	ck := k.newClerk()
	k.WaitPrimary(primaryTimeout)

	ck.checkGet("missing", "")
	ck.put("a", "1")
	ck.checkGet("a", "1")
	ck.append("a", "2")
	ck.append("a", "3")
	ck.checkGet("a", "123")
	ck.put("a", "x")
	ck.checkGet("a", "x")
	ck.append("b", "appended to a missing key")
	ck.checkGet("b", "appended to a missing key")
	ck.put("c", "")
	ck.checkGet("c", "")
	odd := "key\x00with ünïcode;\xff"
	ck.put(odd, "value\x00\n\xfe")
	ck.checkGet(odd, "value\x00\n\xfe")
	big := strings.Repeat("0123456789", 1000)
	ck.put("big", big)
	ck.checkGet("big", big)

	other := k.newClerk()
	other.checkGet("a", "x")
	other.append("a", "y")
	ck.checkGet("a", "xy")

	// Without one backup the other two go on.
	p, _ := k.WaitPrimary(primaryTimeout)
	b := (p + 1) % 3
	k.Disconnect(b)
	ck.append("a", "z")
	other.checkGet("a", "xyz")
	k.Connect(b)
	ck.put("after", "reconnect")

	k.waitKVConverged(5 * time.Second)
	k.checkLinearizable()
}

// TestConcurrentKV: five clerks run random ops on a few shared keys at
// once; the whole history must be linearizable.
func TestConcurrentKV(t *testing.T) {
	k := newKVTest(t, 3, "Test (KV): concurrent clients")
	k.WaitPrimary(primaryTimeout)
	load := k.startLoad(loadSpec{clients: 5, keys: 3, opTimeout: opTimeout, pause: 10 * time.Millisecond})
	k.Sleep(2 * time.Second)
	load.finish()
	k.finalReads(3)
	k.waitKVConverged(5 * time.Second)
	k.checkLinearizable()
}

// TestUnreliableKV: concurrent clerks on a network that drops, delays and
// reorders messages and replies; clerks resend, and VR's client-table must
// keep every op to one execution.
func TestUnreliableKV(t *testing.T) {
	k := newKVTest(t, 5, "Test (KV): unreliable network", harness.Unreliable())
	load := k.startLoad(loadSpec{clients: 5, keys: 3, opTimeout: opTimeout})
	k.Sleep(3 * time.Second)
	load.finish()
	k.Reliable(true)
	k.finalReads(3)
	k.waitKVConverged(5 * time.Second)
	k.checkLinearizable()
}

// TestConcurrentAppendKV: many clerks append to one key on an unreliable
// network, where requests and replies are lost and resent. Every append
// must be in the final value exactly once, each clerk's in the order it
// made them, and every value read along the way must be a prefix of the
// final one (one order, seen by all).
func TestConcurrentAppendKV(t *testing.T) {
	const clients, appends = 8, 15
	k := newKVTest(t, 3, "Test (KV): many clients append to one key", harness.Unreliable())
	const key = "shared"
	type seen struct {
		client int
		after  int // the clerk's appends done before the Get
		value  string
	}
	reads := make(chan seen, clients*appends)
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		cl := k.newClerk()
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			errs <- func() error {
				for j := 0; j < appends; j++ {
					if err := cl.tryAppend(key, fmt.Sprintf("c%d.%d;", cl.id, j), 3*opTimeout); err != nil {
						return err
					}
					if j%4 == 3 {
						v, err := cl.tryGet(key, 3*opTimeout)
						if err != nil {
							return err
						}
						reads <- seen{cl.id, j + 1, v}
					}
				}
				return nil
			}()
		}()
	}
	for i := 0; i < clients; i++ {
		if err := <-errs; err != nil {
			k.Fatalf("%v", err)
		}
	}
	close(reads)
	k.Reliable(true)

	final := k.newClerk().get(key)
	tokens := splitTokens(final)
	count := map[string]int{}
	next := make([]int, clients+1) // by clerk id: the next append expected
	for _, tok := range tokens {
		count[tok]++
		var c, j int
		if _, err := fmt.Sscanf(tok, "c%d.%d", &c, &j); err != nil || c < 0 || c >= len(next) {
			k.Fatalf("the final value of %q holds %q, which no clerk appended; value: %q", key, tok, kvmodel.Abbrev(final))
		}
		if count[tok] > 1 {
			k.Fatalf("append %q is in the final value %d times: a retried Append executed twice (at-most-once is VR's client-table's job); value: %q",
				tok, count[tok], kvmodel.Abbrev(final))
		}
		if j != next[c] {
			k.Fatalf("clerk %d's append %d is followed by its append %d: one clerk's appends out of order; value: %q", c, next[c]-1, j, kvmodel.Abbrev(final))
		}
		next[c]++
	}
	if len(tokens) != clients*appends {
		k.Fatalf("the final value holds %d appends; %d clerks made %d each (%d): some completed Append was lost; value: %q",
			len(tokens), clients, appends, clients*appends, kvmodel.Abbrev(final))
	}
	for r := range reads {
		if !strings.HasPrefix(final, r.value) {
			k.Fatalf("clerk %d read %q, which is not a prefix of the final value %q: the appends were seen in different orders",
				r.client, kvmodel.Abbrev(r.value), kvmodel.Abbrev(final))
		}
		if !strings.Contains(r.value, fmt.Sprintf("c%d.%d;", r.client, r.after-1)) {
			k.Fatalf("clerk %d read %q right after its append %d completed, but the value lacks it: a stale read",
				r.client, kvmodel.Abbrev(r.value), r.after-1)
		}
	}
	k.waitKVConverged(5 * time.Second)
}

// TestMinorityPartitionKV: the primary and one backup are cut off from the
// other three of five. Ops of clerks that reach only the minority — Get
// included — must not complete while it is cut off (the old primary cannot
// commit, and must not answer a Get from its possibly stale state), while
// the majority goes on. After healing, the minority's ops complete.
func TestMinorityPartitionKV(t *testing.T) {
	k := newKVTest(t, 5, "Test (KV): primary in a minority partition")
	ck := k.newClerk()
	p, _ := k.WaitPrimary(primaryTimeout)
	ck.put("k0", "before")
	ck.put("k1", "before")

	minority := []int{p, (p + 1) % 5}
	var majority []int
	for i := 0; i < 5; i++ {
		if i != minority[0] && i != minority[1] {
			majority = append(majority, i)
		}
	}
	k.Partition(majority, minority)
	mput, mget := k.newClerk(), k.newClerk()
	mput.hc.ReachOnly(minority...)
	mget.hc.ReachOnly(minority...)
	pendingPut := mput.start(kvvr.Op{Kind: kvvr.OpPut, Key: "k0", Value: "from the minority"}, 3*opTimeout)
	pendingGet := mget.start(kvvr.Op{Kind: kvvr.OpGet, Key: "k1"}, 3*opTimeout)

	// The majority elects a primary and serves the other clerk.
	k.WaitPrimary(2 * primaryTimeout)
	ck.put("k1", "majority")
	ck.append("k1", "+more")
	ck.checkGet("k1", "majority+more")

	k.During(1500*time.Millisecond, fmt.Sprintf("no op of a clerk reaching only the minority %v to complete", minority), func() (bool, string) {
		if pendingPut.finished() {
			return false, "the minority clerk's Put completed"
		}
		if pendingGet.finished() {
			v, err := pendingGet.wait()
			return false, fmt.Sprintf("the minority clerk's Get completed (value %q, err %v)", v, err)
		}
		return true, ""
	})

	k.Heal()
	mput.hc.ReachMain()
	mget.hc.ReachMain()
	if _, err := pendingPut.wait(); err != nil {
		k.Fatalf("after healing: %v", err)
	}
	if _, err := pendingGet.wait(); err != nil {
		k.Fatalf("after healing: %v", err)
	}
	ck.checkGet("k0", "from the minority")
	k.finalReads(2)
	k.waitKVConverged(5 * time.Second)
	k.checkLinearizable()
}

// partitions runs rounds of random partitions (clients reach group 0 only,
// which may lack a majority) under client load.
func partitions(k *kvTest, clients, rounds int) {
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	load := k.startLoad(loadSpec{clients: clients, keys: 3, opTimeout: 3 * opTimeout, pause: 20 * time.Millisecond})
	for round := 0; round < rounds; round++ {
		k.randomPartition(rng)
		k.Sleep(time.Duration(300+rng.Intn(500)) * time.Millisecond)
		k.Heal()
		k.Sleep(time.Duration(100+rng.Intn(300)) * time.Millisecond)
	}
	k.Heal()
	load.finish()
	k.finalReads(3)
	k.waitKVConverged(10 * time.Second)
	k.checkLinearizable()
}

// TestPartitionsOneClientKV: one clerk through many random partitions.
func TestPartitionsOneClientKV(t *testing.T) {
	partitions(newKVTest(t, 5, "Test (KV): many partitions, one client"), 1, 6)
}

// TestPartitionsManyClientsKV: five clerks through many random partitions.
func TestPartitionsManyClientsKV(t *testing.T) {
	partitions(newKVTest(t, 5, "Test (KV): many partitions, many clients"), 5, 6)
}

// TestCrashRecoverKV: under load, up to f=2 of 5 servers crash at once (the
// primary among them at times), lose everything, restart empty and
// recover; no completed op may be lost or applied twice.
func TestCrashRecoverKV(t *testing.T) {
	k := newKVTest(t, 5, "Test (KV): crash and recovery under load")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	load := k.startLoad(loadSpec{clients: 5, keys: 3, opTimeout: 3 * opTimeout, pause: 20 * time.Millisecond})
	for round := 0; round < 6; round++ {
		load.waitProgress(5, 3*opTimeout)
		crashed := k.crashSome(rng, 2)
		k.Sleep(time.Duration(200+rng.Intn(400)) * time.Millisecond)
		k.restartAll(crashed, recoverTimeout)
	}
	load.waitProgress(5, 3*opTimeout)
	load.finish()
	k.finalReads(3)
	k.waitKVConverged(10 * time.Second)
	k.checkLinearizable()
}

// TestCrashPartitionUnreliableKV: crashes, partitions and an unreliable
// network at once, under load.
func TestCrashPartitionUnreliableKV(t *testing.T) {
	k := newKVTest(t, 5, "Test (KV): crashes, partitions, unreliable network", harness.Unreliable())
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	load := k.startLoad(loadSpec{clients: 5, keys: 3, opTimeout: 6 * opTimeout})
	for round := 0; round < 4; round++ {
		var crashed []int
		if rng.Intn(3) > 0 {
			crashed = k.crashSome(rng, 2)
		}
		k.randomPartition(rng)
		k.Sleep(time.Duration(300+rng.Intn(500)) * time.Millisecond)
		k.Heal()
		k.restartAll(crashed, 3*recoverTimeout)
		k.Sleep(time.Duration(100+rng.Intn(300)) * time.Millisecond)
	}
	load.finish()
	k.Reliable(true)
	k.finalReads(3)
	k.waitKVConverged(10 * time.Second)
	k.checkLinearizable()
}

// TestCheckpointKV: with checkpoints every 10 ops, every log stays short
// under load, a replica that crashed recovers through a checkpoint of the
// key/value state and is then needed, and the snapshot of a small data set
// stays small however many ops made it.
func TestCheckpointKV(t *testing.T) {
	const every = 10
	const maxLog = 3 * every
	const maxSnapshot = 1024 // 5 keys of short values: a few hundred bytes at most
	k := newKVTest(t, 3, "Test (KV): checkpoints", harness.WithOptions(vr.Options{CheckpointEvery: every}))
	logsShort := func() (bool, string) {
		for i := 0; i < k.N(); i++ {
			if st, ok := k.State(i); ok && st.LogLen > maxLog {
				return false, fmt.Sprintf("R%d holds %d log entries (checkpoint at op %d, op-number %d)", i, st.LogLen, st.CheckpointOpNumber, st.OpNumber)
			}
		}
		return true, ""
	}
	p, _ := k.WaitPrimary(primaryTimeout)
	load := k.startLoad(loadSpec{clients: 3, keys: 5, opTimeout: 3 * opTimeout, noAppend: true})
	k.During(time.Second, fmt.Sprintf("every log within %d entries", maxLog), logsShort)

	// A backup crashes, misses many checkpoints, and recovers.
	b := (p + 1) % 3
	k.Crash(b)
	load.waitProgress(5*every, 3*opTimeout)
	k.Restart(b)
	k.WaitRecovered(b, recoverTimeout)
	k.During(time.Second, fmt.Sprintf("every log within %d entries", maxLog), logsShort)

	// The recovered backup is needed: the other backup goes.
	p, _ = k.WaitPrimary(primaryTimeout)
	other := 0
	for other == p || other == b {
		other++
	}
	k.Disconnect(other)
	load.waitProgress(2*every, 3*opTimeout)
	k.Connect(other)
	done := load.finish()
	if done < 20*every {
		k.Fatalf("only %d ops completed; the test needs at least %d to mean anything", done, 20*every)
	}

	k.finalReads(5)
	snap := k.waitKVConverged(10 * time.Second)
	if len(snap) > maxSnapshot {
		k.Fatalf("the snapshot of 5 keys with short values is %d bytes after %d ops; expected at most %d: a snapshot holds the key/value state, not the ops",
			len(snap), done, maxSnapshot)
	}
	for i := 0; i < k.N(); i++ {
		st, _ := k.State(i)
		if st.CheckpointOpNumber < st.Executed-2*every {
			k.Fatalf("R%d's latest checkpoint is at op %d, but it executed %d ops: checkpoints must follow every %d ops",
				i, st.CheckpointOpNumber, st.Executed, every)
		}
	}
	if ok, seen := logsShort(); !ok {
		k.Fatalf("%s", seen)
	}
	k.checkLinearizable()
}

// TestLinearizable7KV: seven servers and fifteen clerks through crashes,
// partitions and an unreliable network; the whole history must be
// linearizable.
func TestLinearizable7KV(t *testing.T) {
	k := newKVTest(t, 7, "Test (KV): 7 servers, 15 clients, crashes, partitions, unreliable", harness.Unreliable())
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	load := k.startLoad(loadSpec{clients: 15, keys: 5, opTimeout: 6 * opTimeout, pause: 10 * time.Millisecond})
	for round := 0; round < 4; round++ {
		crashed := k.crashSome(rng, 2)
		k.Sleep(time.Duration(200+rng.Intn(300)) * time.Millisecond)
		k.randomPartition(rng)
		k.Sleep(time.Duration(300+rng.Intn(500)) * time.Millisecond)
		k.Heal()
		k.restartAll(crashed, 3*recoverTimeout)
		k.Sleep(time.Duration(200+rng.Intn(300)) * time.Millisecond)
	}
	load.finish()
	k.Reliable(true)
	k.finalReads(5)
	k.waitKVConverged(10 * time.Second)
	k.checkLinearizable()
}

// TestSequentialSpeedKV: one clerk's ops must not wait for heartbeats or
// ticks. A good solution does 1000 ops in about a second; the bound is
// generous.
func TestSequentialSpeedKV(t *testing.T) {
	const ops = 1000
	k := newKVTest(t, 3, "Test (KV): sequential speed")
	ck := k.newClerk()
	k.WaitPrimary(primaryTimeout)
	start := time.Now()
	var want strings.Builder
	for i := 0; i < ops; i++ {
		v := fmt.Sprintf("%d;", i)
		ck.append("k", v)
		want.WriteString(v)
	}
	ck.checkGet("k", want.String())
	if d := time.Since(start); d > 20*time.Second {
		k.Fatalf("%d sequential ops took %v; expected well under 20s (are ops waiting for a heartbeat or a tick?)", ops+1, d)
	}
	k.t.Logf("%d sequential ops in %v", ops+1, time.Since(start).Round(time.Millisecond))
}

// TestStateMachineKV: the KVServer as a vr.StateMachine, without VR. A
// malformed op (bad kind, a length beyond the bytes left or past any int,
// trailing bytes) returns a result and changes nothing, with no panic: one
// bad op would otherwise kill every replica at once. The state does not
// alias the op bytes VR hands to Apply. Equal states give equal snapshots
// whatever order the keys were written in, and Restore leaves exactly the
// snapshot's state.
func TestStateMachineKV(t *testing.T) {
	checkStartReturns(t)
	apply := func(s *kvvr.KVServer, what string, op []byte) (res []byte) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Apply(%x) of %s panicked: %v; a malformed op must return an error result and change nothing (Apply runs on every replica)", op, what, r)
			}
		}()
		return s.Apply(op)
	}
	put := func(s *kvvr.KVServer, k, v string) {
		t.Helper()
		apply(s, "a Put", kvvr.EncodeOp(kvvr.Op{Kind: kvvr.OpPut, Key: k, Value: v}))
	}

	// Equal states, written in different orders, give equal snapshots.
	fwd, rev := kvvr.NewStore(), kvvr.NewStore()
	const keys = 40
	for i := 0; i < keys; i++ {
		put(fwd, fmt.Sprintf("k%02d", i), fmt.Sprint(i))
		put(rev, fmt.Sprintf("k%02d", keys-1-i), fmt.Sprint(keys-1-i))
	}
	want := fwd.Snapshot()
	for try := 0; try < 3; try++ {
		if got := fwd.Snapshot(); !bytes.Equal(got, want) {
			t.Fatalf("two snapshots of one store of %d keys, with no op between them, differ (%d and %d bytes): Snapshot must not depend on map order (sort the keys)", keys, len(want), len(got))
		}
		if got := rev.Snapshot(); !bytes.Equal(got, want) {
			t.Fatalf("two stores given the same %d keys and values, written in opposite orders, give different snapshots (%d and %d bytes): "+
				"a snapshot must encode the key/value state alone (not the ops that made it), with the keys in sorted order", keys, len(want), len(got))
		}
	}

	// Malformed ops.
	s := kvvr.NewStore()
	put(s, "k", "v")
	before := s.Snapshot()
	huge := binary.AppendUvarint([]byte{byte(kvvr.OpPut)}, 1<<63+3)
	bad := map[string][]byte{
		"an empty op":                           {},
		"an unknown kind":                       {0x7f, 1, 'k'},
		"a key length beyond the bytes left":    {byte(kvvr.OpGet), 9, 'k'},
		"a value length beyond the bytes left":  {byte(kvvr.OpPut), 1, 'k', 200, 1, 'v'},
		"a key length past any int (2^63+3)":    append(huge, 'k', 'e', 'y'),
		"a bad uvarint":                         {byte(kvvr.OpAppend), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"a Get with trailing bytes":             append(kvvr.EncodeOp(kvvr.Op{Kind: kvvr.OpGet, Key: "k"}), 'x'),
		"a Put with a missing value":            {byte(kvvr.OpPut), 1, 'k'},
		"a Put of key k with trailing bytes":    append(kvvr.EncodeOp(kvvr.Op{Kind: kvvr.OpPut, Key: "k", Value: "w"}), 0),
		"an Append of key k with a short value": {byte(kvvr.OpAppend), 1, 'k', 5, 'w'},
	}
	for what, op := range bad {
		if res := apply(s, what, op); len(res) == 0 {
			t.Fatalf("Apply(%x) of %s returned an empty result; expected an error result", op, what)
		}
		if after := s.Snapshot(); !bytes.Equal(after, before) {
			t.Fatalf("Apply(%x) of %s changed the state (snapshot %q, before %q); a malformed op must change nothing", op, what, after, before)
		}
	}

	// The state owns its bytes: scribbling over the op after Apply (VR
	// may reuse or drop its log entries) changes nothing.
	a := kvvr.NewStore()
	for i := 0; i < 5; i++ {
		op := kvvr.EncodeOp(kvvr.Op{Kind: kvvr.OpPut, Key: fmt.Sprintf("key%d", i), Value: fmt.Sprintf("value%d", i)})
		apply(a, "a Put", op)
		for j := range op {
			op[j] = '#'
		}
	}
	for i := 0; i < 5; i++ {
		get := kvvr.EncodeOp(kvvr.Op{Kind: kvvr.OpGet, Key: fmt.Sprintf("key%d", i)})
		ref := kvvr.NewStore()
		put(ref, fmt.Sprintf("key%d", i), fmt.Sprintf("value%d", i))
		if got, want := apply(a, "a Get", get), apply(ref, "a Get", get); !bytes.Equal(got, want) {
			t.Fatalf("after Put(key%d, value%d) and overwriting the bytes of the ops Apply had executed, Get(key%d) returned %q; expected %q: "+
				"the map must hold copies (string(b)), not the op's bytes", i, i, i, got, want)
		}
	}

	// Restore replaces the state.
	src := kvvr.NewStore()
	put(src, "kept", "from the snapshot")
	snap := src.Snapshot()
	dst := kvvr.NewStore()
	put(dst, "stale", "only in the replica's old state")
	put(dst, "kept", "old value")
	dst.Restore(snap)
	if got := dst.Snapshot(); !bytes.Equal(got, snap) {
		t.Fatalf("after Restore of a snapshot of {kept}, the state's snapshot is %q; expected %q: Restore must leave exactly the snapshot's keys (start from a fresh map)", got, snap)
	}
	if res := apply(dst, "a Get", kvvr.EncodeOp(kvvr.Op{Kind: kvvr.OpGet, Key: "stale"})); !bytes.Equal(res, apply(kvvr.NewStore(), "a Get", kvvr.EncodeOp(kvvr.Op{Kind: kvvr.OpGet, Key: "stale"}))) {
		t.Fatalf("after Restore of a snapshot without key \"stale\", Get(\"stale\") returned %q, not what a fresh store returns: Restore must replace the state, not merge into it", res)
	}
}

// checkStartReturns: StartKVServer returns at once, even for a replica
// that restarts (opts.Recovering) and cannot recover yet because no other
// replica answers: vr.Make runs recovery in the background, and the caller
// (the harness, a main) registers the server's RPC handlers only after
// StartKVServer returns, so waiting there for the replica to become normal
// can wait forever.
func checkStartReturns(t *testing.T) {
	const bound = 2 * time.Second
	net := labrpc.MakeNetwork()
	defer net.Cleanup()
	for _, recovering := range []bool{false, true} {
		ends := make([]*labrpc.ClientEnd, 3)
		for j := range ends {
			name := fmt.Sprintf("start-%v-to-%d", recovering, j)
			ends[j] = net.MakeEnd(name)
			net.Connect(name, fmt.Sprintf("absent-%d", j)) // no server: every call fails
		}
		started := make(chan *kvvr.KVServer, 1)
		go func() { started <- kvvr.StartKVServer(ends, 1, vr.Options{Recovering: recovering}) }()
		select {
		case kv := <-started:
			kv.Kill()
		case <-time.After(bound):
			t.Fatalf("StartKVServer (opts.Recovering %v, no other replica reachable) did not return within %v; "+
				"it must return at once and leave VR to run in the background (don't wait for the replica to become normal, "+
				"or hold a lock that Apply or Restore needs)", recovering, bound)
		}
	}
}

// TestStalledCommitKV: an Append whose commit stalls — every PREPAREOK is
// lost for 3 s, so the primary cannot commit it — must not complete while
// stalled, completes once the PREPAREOKs flow again, and executes exactly
// once. A clerk that gives up waiting and sends the op again as a new
// request (or through a new vr.Client) makes VR execute it again: VR's
// client-table dedups a retry only under the same client-id and
// request-number.
func TestStalledCommitKV(t *testing.T) {
	const stall = 3 * time.Second
	k := newKVTest(t, 3, "Test (KV): an Append whose commit stalls")
	ck, other := k.newClerk(), k.newClerk()
	k.WaitPrimary(primaryTimeout)
	ck.put("k", "start;")

	k.Drop("stall", func(m vr.Message) bool { return m.Type == vr.MsgPrepareOK })
	pend := ck.start(kvvr.Op{Kind: kvvr.OpAppend, Key: "k", Value: "once;"}, stall+3*opTimeout)
	k.During(stall, "the Append not to complete while every PREPAREOK is lost", func() (bool, string) {
		if pend.finished() {
			_, err := pend.wait()
			return false, fmt.Sprintf("it completed (err %v) although no backup's PREPAREOK reached the primary", err)
		}
		return true, ""
	})
	k.Undrop("stall")
	other.put("other", "after the stall") // a later op: its commit covers every op before it
	if _, err := pend.wait(); err != nil {
		k.Fatalf("after the stall: %v", err)
	}
	v := other.get("k")
	if n := strings.Count(v, "once;"); n != 1 || !strings.HasPrefix(v, "start;") {
		k.Fatalf("after Put(k, \"start;\") and one Append(k, \"once;\") whose commit stalled, k is %q: the Append executed %d times; expected \"start;once;\". "+
			"A clerk that gives up on a slow op and sends it again as a new request (or through a new vr.Client) defeats VR's at-most-once: let vr.Client retry",
			kvmodel.Abbrev(v), n)
	}
	k.waitKVConverged(5 * time.Second)
	k.checkLinearizable()
}
