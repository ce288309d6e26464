package kvvr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"vrlab/labrpc"
	"vrlab/vr"
)

var sampleOps = []Op{
	{Kind: OpGet, Key: ""},
	{Kind: OpGet, Key: "k"},
	{Kind: OpPut, Key: "", Value: ""},
	{Kind: OpPut, Key: "key", Value: "value"},
	{Kind: OpAppend, Key: "a", Value: "x 0 1 y"},
	{Kind: OpAppend, Key: "ünï\x00cødé", Value: "\x00\xff\x01"},
	{Kind: OpPut, Key: strings.Repeat("k", 300), Value: strings.Repeat("v", 70000)},
}

func TestOpRoundTrip(t *testing.T) {
	for _, op := range sampleOps {
		b := EncodeOp(op)
		got, err := DecodeOp(b)
		require.NoError(t, err, "decoding %v from % x", op, b)
		require.Equal(t, op, got)
	}
}

func TestOpEncodingIsCompact(t *testing.T) {
	// kind byte + one length byte + key, and for Put another length + value.
	require.Len(t, EncodeOp(Op{Kind: OpGet, Key: "k"}), 3)
	require.Len(t, EncodeOp(Op{Kind: OpPut, Key: "k", Value: "v"}), 5)
}

func TestDecodeOpMalformed(t *testing.T) {
	good := EncodeOp(Op{Kind: OpPut, Key: "key", Value: "value"})
	cases := map[string][]byte{
		"nil":               nil,
		"empty":             {},
		"kind 0":            {0, 1, 'k'},
		"unknown kind":      {9, 1, 'k'},
		"no key length":     {byte(OpGet)},
		"key too long":      {byte(OpGet), 5, 'k'},
		"bad uvarint":       {byte(OpGet), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"huge key length":   {byte(OpGet), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"get with value":    {byte(OpGet), 1, 'k', 1, 'v'},
		"put without value": {byte(OpPut), 1, 'k'},
		"value too long":    {byte(OpAppend), 1, 'k', 3, 'v'},
		"trailing byte":     append(bytes.Clone(good), 0),
		"truncated":         good[:len(good)-1],
	}
	for name, b := range cases {
		_, err := DecodeOp(b)
		require.ErrorIs(t, err, ErrMalformed, "%s: % x", name, b)
	}
	// Every prefix of a valid op is malformed, and decoding never panics.
	for i := range good {
		_, err := DecodeOp(good[:i])
		require.ErrorIs(t, err, ErrMalformed, "prefix of %d bytes", i)
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 10000; i++ {
		b := make([]byte, rng.Intn(12))
		rng.Read(b)
		if op, err := DecodeOp(b); err == nil {
			require.Equal(t, b, EncodeOp(op), "DecodeOp accepted % x, which is not the encoding of %v", b, op)
		}
	}
}

// FuzzDecodeOp: DecodeOp never panics, and what it accepts re-encodes to
// the same bytes. `go test` runs the seeds; `go test -fuzz FuzzDecodeOp`
// explores.
func FuzzDecodeOp(f *testing.F) {
	for _, op := range sampleOps {
		f.Add(EncodeOp(op))
	}
	f.Add([]byte{byte(OpGet), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		op, err := DecodeOp(b)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeOp(op), b) {
			t.Fatalf("DecodeOp(% x) = %v, which encodes as % x", b, op, EncodeOp(op))
		}
	})
}

func TestApply(t *testing.T) {
	kv := newKVServer()
	apply := func(op Op) (string, error) { return decodeResult(kv.Apply(EncodeOp(op))) }

	v, err := apply(Op{Kind: OpGet, Key: "a"})
	require.NoError(t, err)
	require.Equal(t, "", v, "Get of a missing key")
	_, err = apply(Op{Kind: OpPut, Key: "a", Value: "1"})
	require.NoError(t, err)
	_, err = apply(Op{Kind: OpAppend, Key: "a", Value: "2"})
	require.NoError(t, err)
	_, err = apply(Op{Kind: OpAppend, Key: "b", Value: "x"})
	require.NoError(t, err)
	v, _ = apply(Op{Kind: OpGet, Key: "a"})
	require.Equal(t, "12", v)
	v, _ = apply(Op{Kind: OpGet, Key: "b"})
	require.Equal(t, "x", v, "Append to a missing key")

	// A malformed op gets an error result and changes nothing.
	before := kv.Snapshot()
	for _, bad := range [][]byte{nil, {}, {0}, {byte(OpPut), 5, 'k'}, {byte(OpGet), 1, 'a', 0}} {
		res := kv.Apply(bad)
		_, err := decodeResult(res)
		require.Error(t, err, "Apply(% x) = % x; expected an error result", bad, res)
	}
	require.Equal(t, before, kv.Snapshot(), "a malformed op changed the state")

	// Read serves Gets only.
	v, err = decodeResult(kv.Read(EncodeOp(Op{Kind: OpGet, Key: "a"})))
	require.NoError(t, err)
	require.Equal(t, "12", v)
	_, err = decodeResult(kv.Read(EncodeOp(Op{Kind: OpPut, Key: "a", Value: "z"})))
	require.Error(t, err)
	require.Equal(t, before, kv.Snapshot(), "Read changed the state")
}

func TestResultRoundTrip(t *testing.T) {
	for _, v := range []string{"", "x", "\x00\x01", strings.Repeat("y", 1000)} {
		got, err := decodeResult(okResult(v))
		require.NoError(t, err)
		require.Equal(t, v, got)
	}
	_, err := decodeResult(errorResult(errors.New("boom")))
	require.ErrorContains(t, err, "boom")
	for _, bad := range [][]byte{nil, {}, {7, 'x'}} {
		_, err := decodeResult(bad)
		require.ErrorIs(t, err, ErrMalformed)
	}
}

func TestSnapshotDeterministic(t *testing.T) {
	// The same state built in different orders gives the same bytes.
	keys := make([]string, 200)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", i)
	}
	var snaps [][]byte
	for seed := int64(0); seed < 5; seed++ {
		kv := newKVServer()
		rng := rand.New(rand.NewSource(seed))
		order := rng.Perm(len(keys))
		// Noise first, in random order, then the final values.
		for _, i := range order {
			kv.Apply(EncodeOp(Op{Kind: OpPut, Key: keys[i], Value: "noise"}))
		}
		for _, i := range rng.Perm(len(keys)) {
			kv.Apply(EncodeOp(Op{Kind: OpPut, Key: keys[i], Value: "v"}))
			kv.Apply(EncodeOp(Op{Kind: OpAppend, Key: keys[i], Value: keys[i]}))
		}
		snaps = append(snaps, kv.Snapshot())
	}
	for i := 1; i < len(snaps); i++ {
		require.Equal(t, snaps[0], snaps[i], "equal states gave different snapshots")
	}
	// And the same bytes on every call.
	kv := newKVServer()
	kv.Restore(snaps[0])
	for i := 0; i < 10; i++ {
		require.Equal(t, snaps[0], kv.Snapshot())
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	kv := newKVServer()
	empty := kv.Snapshot()
	require.NotNil(t, empty)
	for _, op := range sampleOps {
		kv.Apply(EncodeOp(op))
	}
	snap := kv.Snapshot()

	other := newKVServer()
	other.Apply(EncodeOp(Op{Kind: OpPut, Key: "stale", Value: "gone after Restore"}))
	other.Restore(snap)
	require.Equal(t, snap, other.Snapshot())
	for _, op := range sampleOps {
		want, _ := decodeResult(kv.Apply(EncodeOp(Op{Kind: OpGet, Key: op.Key})))
		got, err := decodeResult(other.Apply(EncodeOp(Op{Kind: OpGet, Key: op.Key})))
		require.NoError(t, err)
		require.Equal(t, want, got, "key %q after Restore", op.Key)
	}
	got, _ := decodeResult(other.Apply(EncodeOp(Op{Kind: OpGet, Key: "stale"})))
	require.Equal(t, "", got, "Restore must replace the state, not add to it")

	// Snapshot returns a fresh slice: changing it changes nothing.
	for i := range snap {
		snap[i] = 0xee
	}
	require.Equal(t, other.Snapshot(), kv.Snapshot())

	other.Restore(empty)
	require.Equal(t, empty, other.Snapshot())
}

func TestDecodeSnapshotMalformed(t *testing.T) {
	good := encodeSnapshot(map[string]string{"a": "1", "b": "2"})
	cases := map[string][]byte{
		"nil":           nil,
		"huge count":    {0xff, 0xff, 0xff, 0xff, 0x0f},
		"count too big": {3, 1, 'a', 1, '1'},
		"truncated":     good[:len(good)-1],
		"trailing":      append(bytes.Clone(good), 0),
		"unsorted":      {2, 1, 'b', 0, 1, 'a', 0},
		"duplicate key": {2, 1, 'a', 0, 1, 'a', 0},
	}
	for name, b := range cases {
		_, err := decodeSnapshot(b)
		require.ErrorIs(t, err, ErrMalformed, "%s: % x", name, b)
	}
	for i := range good {
		_, err := decodeSnapshot(good[:i])
		require.ErrorIs(t, err, ErrMalformed, "prefix of %d bytes", i)
	}
	require.PanicsWithValue(t, "kvvr: Restore: "+mustErr(decodeSnapshot(nil)).Error(),
		func() { newKVServer().Restore(nil) }, "Restore of a malformed snapshot must say so")
}

func mustErr(_ map[string]string, err error) error { return err }

// ---------------------------------------------------------------------------
// A real service of n KVServers over labrpc, for a smoke test and the
// benchmarks.

type service struct {
	net     *labrpc.Network
	servers []*KVServer
	nextEnd int
}

func startService(n int) *service {
	s := &service{net: labrpc.MakeNetwork()}
	for i := 0; i < n; i++ {
		ends := make([]*labrpc.ClientEnd, n)
		for j := range ends {
			ends[j] = s.end(j)
		}
		kv := StartKVServer(ends, i, vr.Options{})
		srv := labrpc.MakeServer()
		for _, svc := range kv.Services() {
			srv.AddService(svc)
		}
		s.net.AddServer(i, srv)
		s.servers = append(s.servers, kv)
	}
	return s
}

func (s *service) end(to int) *labrpc.ClientEnd {
	name := fmt.Sprintf("end-%d", s.nextEnd)
	s.nextEnd++
	e := s.net.MakeEnd(name)
	s.net.Connect(name, to)
	s.net.Enable(name, true)
	return e
}

func (s *service) clerk() *Clerk {
	ends := make([]*labrpc.ClientEnd, len(s.servers))
	for j := range ends {
		ends[j] = s.end(j)
	}
	return MakeClerk(ends)
}

func (s *service) stop() {
	for _, kv := range s.servers {
		kv.Kill()
	}
	s.net.Cleanup()
}

func TestClerkSmoke(t *testing.T) {
	s := startService(3)
	defer s.stop()
	ck := s.clerk()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	v, err := ck.GetContext(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "", v)
	require.NoError(t, ck.PutContext(ctx, "k", "a"))
	require.NoError(t, ck.AppendContext(ctx, "k", "b"))
	ck.Append("k", "c")
	require.Equal(t, "abc", ck.Get("k"))
	ck.Put("k", "z")
	v, err = s.clerk().GetContext(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "z", v, "another clerk's Get")

	// Every replica ends up with the same state.
	want := s.servers[0].Snapshot()
	require.Eventually(t, func() bool {
		for _, kv := range s.servers {
			if !bytes.Equal(kv.Snapshot(), want) {
				return false
			}
		}
		return true
	}, 5*time.Second, 10*time.Millisecond, "replicas' snapshots differ")

	// A clerk gives up when its context ends.
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	_, err = ck.GetContext(done, "k")
	require.ErrorIs(t, err, context.Canceled)
}

// BenchmarkSequential: one clerk, one op at a time, over labrpc with 3
// servers. Reports ops/s.
func BenchmarkSequential(b *testing.B) {
	s := startService(3)
	defer s.stop()
	ck := s.clerk()
	ck.Put("warm", "up") // wait out the start
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		ck.Put("k", "v")
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}

// BenchmarkConcurrent: 16 clerks at once over labrpc with 3 servers, b.N
// ops in all. Reports ops/s.
func BenchmarkConcurrent(b *testing.B) {
	const clerks = 16
	s := startService(3)
	defer s.stop()
	cks := make([]*Clerk, clerks)
	for i := range cks {
		cks[i] = s.clerk()
		cks[i].Put("warm", "up")
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, ck := range cks {
		n := b.N / clerks
		if i < b.N%clerks {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("k%d", i)
			for j := 0; j < n; j++ {
				ck.Append(key, "x")
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}
