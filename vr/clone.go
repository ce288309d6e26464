package vr

// Clone and Fingerprint: what an exhaustive search of VR executions
// (package search) needs from a Replica. The search keeps many states of one
// group side by side, so it must copy a replica (to try two different next
// moves from the same state) and tell whether two states are the same (to
// explore each only once).
//
// Both work on every field of Replica generically, by reflection, so a
// field you add to Replica in the labs is copied and compared without any
// change here. The reflection is done once per type: it compiles a plan of
// offsets and small functions, which then runs on raw memory (package
// unsafe), fast enough for hundreds of thousands of states a second.
//
// What is copied, and what compared:
//
//   - numbers, bools, strings, arrays, structs: copied and compared by value;
//   - slices, maps and pointers: deep-copied (a clone shares no memory it
//     could write with the original) and compared by content; a nil and an
//     empty slice or map compare equal; maps compare whatever their
//     iteration order;
//   - []byte slices are the exception: ops, results and snapshots, which VR
//     treats as immutable (they are shared with messages in flight), so they
//     are shared, not copied; they are compared by content;
//   - interfaces, funcs and channels are shared and not compared: the
//     service (sm) is the caller's to copy (Clone's argument) and to compare;
//     the logger is no state. Keep no protocol state behind an interface.
//
// Fields of time and chance, chosen by hand:
//
//   - rand, the seeded generator of timeouts and nonces: the clone draws the
//     same numbers the original would (both read one shared sequence, each
//     at its own place: see seqSource), so a path replays exactly whether or
//     not its states were cloned on the way. It is
//     not compared: what it drew already sits in compared fields
//     (viewChangeTimeout, nonce); what it will draw only sets how many ticks
//     a timer takes, and the search ticks a timer until it fires anyway.
//     Two states that differ only in their generators are the same state.
//   - now counts ticks since the start, so it would tell apart every two
//     paths with different numbers of ticks; it is not compared. The one
//     field that holds a time, getStateAt, is compared as its age (now -
//     getStateAt, capped at the heartbeat interval past which it no longer
//     matters). (The lease fields of part F, leaseUntil and promiseUntil,
//     hold times too; they stay 0 with leases off, as the search runs.)
//   - scratch is a reused buffer: not copied, not compared.

import (
	"maps"
	"math"
	"math/rand"
	"reflect"
	"sync"
	"unsafe"
)

// Clone returns a deep copy of r that uses sm as its service. sm must be in
// the state r's service is in: Clone cannot copy a service it knows only by
// its interface. The copy and r then evolve independently. Clone is not safe
// for concurrent use on one replica: the first clone sets r's generator up
// to be shared (see cloneRand).
func (r *Replica) Clone(sm StateMachine) *Replica {
	cp := *r
	replicaPlan().copy(unsafe.Pointer(&cp))
	cp.sm = sm
	cp.scratch = nil
	cp.rand = cloneRand(r)
	return &cp
}

// Fingerprint is a 64-bit hash of r's protocol state, as described at the
// top of this file: two replicas with equal fingerprints behave alike from
// here on (up to the number of ticks their timers take). The service is not
// included.
func (r *Replica) Fingerprint() uint64 {
	h := hasher(fnvOffset)
	replicaPlan().hash(&h, unsafe.Pointer(r))
	h.word(uint64(min(r.now-r.getStateAt, r.opts.HeartbeatTicks)))
	return uint64(h)
}

// ---- the plans ----

// A plan is what to do with a value of one type. copy deep-copies, in place,
// the references of a value that was just copied shallowly (nil: the type
// holds nothing to deep-copy). hash folds the value into a hasher.
type plan struct {
	copy func(p unsafe.Pointer)
	hash func(h *hasher, p unsafe.Pointer)
}

var (
	plansMu sync.Mutex
	plans   = map[reflect.Type]*plan{}

	replicaOnce sync.Once
	replicaP    *plan
)

// notCompared are the fields of Replica that Fingerprint leaves out (see the
// top of this file); notCopied those that Clone sets itself.
var (
	notCompared = map[string]bool{"sm": true, "logf": true, "logging": true, "rand": true, "now": true, "getStateAt": true, "scratch": true}
	notCopied   = map[string]bool{"sm": true, "logf": true, "rand": true, "scratch": true}
)

func replicaPlan() *plan {
	replicaOnce.Do(func() {
		plansMu.Lock()
		defer plansMu.Unlock()
		replicaP = structPlan(reflect.TypeOf(Replica{}), notCopied, notCompared)
	})
	return replicaP
}

// planOf returns the plan of t, compiling it on first use. plansMu is held.
func planOf(t reflect.Type) *plan {
	if p, ok := plans[t]; ok {
		return p
	}
	p := &plan{}
	plans[t] = p // before compiling: a type that refers to itself finds it
	*p = *compile(t)
	return p
}

func compile(t reflect.Type) *plan {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return &plan{hash: scalarHash(t.Size())}
	case reflect.String:
		return &plan{hash: func(h *hasher, p unsafe.Pointer) {
			h.bytes(unsafe.Slice(unsafe.StringData(*(*string)(p)), len(*(*string)(p))))
		}}
	case reflect.Struct:
		return structPlan(t, nil, nil)
	case reflect.Array:
		return arrayPlan(t)
	case reflect.Slice:
		return slicePlan(t)
	case reflect.Pointer:
		return pointerPlan(t)
	case reflect.Map:
		if p, ok := fastMaps[t]; ok {
			return p
		}
		return mapPlan(t)
	}
	// Interfaces, funcs, channels: shared, not compared.
	return &plan{hash: func(*hasher, unsafe.Pointer) {}}
}

// structPlan compiles a struct's fields, leaving out the named ones.
// Neighbouring number fields without padding between them are hashed as one
// run of memory.
func structPlan(t reflect.Type, skipCopy, skipHash map[string]bool) *plan {
	type step struct {
		off uintptr
		p   *plan
	}
	type run struct{ off, size uintptr }
	var copies, hashes []step
	var runs []run
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fp := planOf(f.Type)
		if fp.copy != nil && !skipCopy[f.Name] {
			copies = append(copies, step{f.Offset, fp})
		}
		if skipHash[f.Name] {
			continue
		}
		if isScalar(f.Type) {
			if n := len(runs); n > 0 && runs[n-1].off+runs[n-1].size == f.Offset && len(hashes) > 0 && hashes[len(hashes)-1].p == nil {
				runs[n-1].size += f.Type.Size()
				continue
			}
			runs = append(runs, run{f.Offset, f.Type.Size()})
			hashes = append(hashes, step{uintptr(len(runs) - 1), nil}) // nil plan: a run
			continue
		}
		hashes = append(hashes, step{f.Offset, fp})
	}
	p := &plan{hash: func(h *hasher, ptr unsafe.Pointer) {
		for _, s := range hashes {
			if s.p == nil {
				r := runs[s.off]
				h.bytes(unsafe.Slice((*byte)(unsafe.Add(ptr, r.off)), r.size))
				continue
			}
			s.p.hash(h, unsafe.Add(ptr, s.off))
		}
	}}
	if len(copies) > 0 {
		p.copy = func(ptr unsafe.Pointer) {
			for _, s := range copies {
				s.p.copy(unsafe.Add(ptr, s.off))
			}
		}
	}
	return p
}

func arrayPlan(t reflect.Type) *plan {
	ep, n, size := planOf(t.Elem()), t.Len(), t.Elem().Size()
	p := &plan{hash: func(h *hasher, ptr unsafe.Pointer) {
		for i := 0; i < n; i++ {
			ep.hash(h, unsafe.Add(ptr, uintptr(i)*size))
		}
	}}
	if ep.copy != nil {
		p.copy = func(ptr unsafe.Pointer) {
			for i := 0; i < n; i++ {
				ep.copy(unsafe.Add(ptr, uintptr(i)*size))
			}
		}
	}
	return p
}

// sliceHeader is the memory layout of a slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

func slicePlan(t reflect.Type) *plan {
	et := t.Elem()
	if et.Kind() == reflect.Uint8 { // []byte: immutable by VR's rules, shared
		return &plan{hash: func(h *hasher, ptr unsafe.Pointer) {
			s := (*sliceHeader)(ptr)
			h.word(uint64(s.len))
			h.bytes(unsafe.Slice((*byte)(s.data), s.len))
		}}
	}
	ep, size := planOf(et), et.Size()
	return &plan{
		hash: func(h *hasher, ptr unsafe.Pointer) {
			s := (*sliceHeader)(ptr)
			h.word(uint64(s.len))
			for i := 0; i < s.len; i++ {
				ep.hash(h, unsafe.Add(s.data, uintptr(i)*size))
			}
		},
		copy: func(ptr unsafe.Pointer) {
			s := (*sliceHeader)(ptr)
			if s.data == nil {
				return
			}
			// A new backing array of exactly len: the clone's appends and
			// element writes cannot reach the original's.
			v := reflect.MakeSlice(t, s.len, s.len)
			reflect.Copy(v, reflect.NewAt(t, ptr).Elem())
			*s = sliceHeader{v.UnsafePointer(), s.len, s.len}
			if ep.copy != nil {
				for i := 0; i < s.len; i++ {
					ep.copy(unsafe.Add(s.data, uintptr(i)*size))
				}
			}
		},
	}
}

func pointerPlan(t reflect.Type) *plan {
	et := t.Elem()
	ep := planOf(et) // may still be compiling (a recursive type): used only when run
	return &plan{
		hash: func(h *hasher, ptr unsafe.Pointer) {
			q := *(*unsafe.Pointer)(ptr)
			if q == nil {
				h.word(0)
				return
			}
			h.word(1)
			ep.hash(h, q)
		},
		copy: func(ptr unsafe.Pointer) {
			q := *(*unsafe.Pointer)(ptr)
			if q == nil {
				return
			}
			v := reflect.New(et)
			v.Elem().Set(reflect.NewAt(et, q).Elem())
			n := v.UnsafePointer()
			if ep.copy != nil {
				ep.copy(n)
			}
			*(*unsafe.Pointer)(ptr) = n
		},
	}
}

func mapPlan(t reflect.Type) *plan {
	kp, vp := planOf(t.Key()), planOf(t.Elem())
	return &plan{
		// The entries in any order: each hashed on its own, then summed.
		hash: func(h *hasher, ptr unsafe.Pointer) {
			m := reflect.NewAt(t, ptr).Elem()
			h.word(uint64(m.Len()))
			var sum uint64
			k, v := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			for it := m.MapRange(); it.Next(); {
				k.SetIterKey(it)
				v.SetIterValue(it)
				e := hasher(fnvOffset)
				kp.hash(&e, k.Addr().UnsafePointer())
				vp.hash(&e, v.Addr().UnsafePointer())
				sum += uint64(e)
			}
			h.word(sum)
		},
		copy: func(ptr unsafe.Pointer) {
			m := reflect.NewAt(t, ptr).Elem()
			if m.IsNil() {
				return
			}
			n := reflect.MakeMapWithSize(t, m.Len())
			for it := m.MapRange(); it.Next(); {
				k, v := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
				k.SetIterKey(it)
				v.SetIterValue(it)
				if kp.copy != nil {
					kp.copy(k.Addr().UnsafePointer())
				}
				if vp.copy != nil {
					vp.copy(v.Addr().UnsafePointer())
				}
				n.SetMapIndex(k, v)
			}
			m.Set(n)
		},
	}
}

// fastMaps are hand-written plans for the maps of the client-table: the
// generic plan goes through reflect for every entry, and these maps are
// copied with every replica. Their values hold no references but []byte
// results, which are shared anyway, so a shallow copy is a deep one.
var fastMaps = map[reflect.Type]*plan{
	reflect.TypeOf(map[int64]int(nil)):          fastMap[int64, int](func(h *hasher, k int64, v int) { h.word(uint64(k)); h.word(uint64(v)) }),
	reflect.TypeOf(map[int64]ClientRecord(nil)): fastMap[int64, ClientRecord](hashRecord),
}

func hashRecord(h *hasher, k int64, v ClientRecord) {
	h.word(uint64(k))
	h.word(uint64(v.ClientID))
	h.word(uint64(v.RequestNum))
	h.word(uint64(len(v.Result)))
	h.bytes(v.Result)
}

func fastMap[K comparable, V any](entry func(h *hasher, k K, v V)) *plan {
	return &plan{
		hash: func(h *hasher, p unsafe.Pointer) {
			m := *(*map[K]V)(p)
			h.word(uint64(len(m)))
			var sum uint64
			for k, v := range m {
				e := hasher(fnvOffset)
				entry(&e, k, v)
				sum += uint64(e)
			}
			h.word(sum)
		},
		copy: func(p unsafe.Pointer) {
			m := (*map[K]V)(p)
			if *m != nil {
				*m = maps.Clone(*m)
			}
		},
	}
}

func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func scalarHash(size uintptr) func(h *hasher, p unsafe.Pointer) {
	return func(h *hasher, p unsafe.Pointer) { h.bytes(unsafe.Slice((*byte)(p), size)) }
}

// ---- the hash ----

// hasher is a 64-bit FNV-1a-style hash over 64-bit words, with a final
// shift on each word so that high bits reach low ones. With 64 bits, a
// search of a million states meets a collision with odds of about 1 in 30
// million.
type hasher uint64

const fnvOffset = 0xcbf29ce484222325

func (h *hasher) word(x uint64) {
	v := (uint64(*h) ^ x) * 0x100000001b3
	*h = hasher(v ^ v>>29)
}

func (h *hasher) bytes(b []byte) {
	for len(b) >= 8 {
		h.word(*(*uint64)(unsafe.Pointer(&b[0])))
		b = b[8:]
	}
	if len(b) > 0 {
		var x uint64
		for i, c := range b {
			x |= uint64(c) << (8 * i)
		}
		h.word(x ^ math.MaxUint64<<(8*len(b))) // the tail's length is in the word
	}
}

// ---- the generator ----

// randSeq is the sequence of numbers one seeded generator draws, shared by a
// replica and all its clones (and theirs). Each holds only its position in
// it (seqSource): a clone draws exactly what its original would have, and
// cloning costs no copy of math/rand's 5 KB of generator state, nor does a
// clone's first draw. The sequence is drawn from the generator on demand, as
// far as the furthest of them has gone; the lock makes clones safe to use in
// different goroutines.
type randSeq struct {
	mu  sync.Mutex
	src rand.Source64
	out []uint64
}

// seqSource is a math/rand Source at a position in a shared randSeq.
type seqSource struct {
	seq *randSeq
	pos int
}

func (s *seqSource) Uint64() uint64 {
	q := s.seq
	q.mu.Lock()
	if s.pos == len(q.out) {
		q.out = append(q.out, q.src.Uint64())
	}
	v := q.out[s.pos]
	q.mu.Unlock()
	s.pos++
	return v
}

// Int63 is Uint64 without its top bit: math/rand's generator
// (rand.NewSource) draws its Int63 so, from the same step as Uint64, which
// lets one sequence serve both (TestCloneRand checks it).
func (s *seqSource) Int63() int64 { return int64(s.Uint64() &^ (1 << 63)) }

// Seed starts a new sequence, shared with no one.
func (s *seqSource) Seed(seed int64) {
	s.seq, s.pos = &randSeq{src: rand.NewSource(seed).(rand.Source64)}, 0
}

// cloneRand returns a generator for a clone of r that draws what r's would.
// On r's first clone, r's own generator is put behind a seqSource.
//
// A *rand.Rand does not give out its Source, and NewReplica makes it from
// rand.NewSource, so this reads the Rand's src field directly: the one place
// where vrlab looks inside the standard library.
func cloneRand(r *Replica) *rand.Rand {
	randSrcOnce.Do(func() {
		f, ok := reflect.TypeOf(rand.Rand{}).FieldByName("src")
		if !ok || f.Type != reflect.TypeOf((*rand.Source)(nil)).Elem() {
			panic("vr: Clone: math/rand.Rand has no src field of type Source; update cloneRand")
		}
		randSrcOffset = f.Offset
	})
	src := *(*rand.Source)(unsafe.Add(unsafe.Pointer(r.rand), randSrcOffset))
	ss, ok := src.(*seqSource)
	if !ok {
		s64, ok := src.(rand.Source64)
		if !ok {
			panic("vr: Clone: the replica's generator is not a rand.Source64")
		}
		// The first clone: from now on r draws through a shared sequence too.
		// It draws the same numbers: rand.New adds no state of its own that
		// Intn or Uint64 use.
		ss = &seqSource{seq: &randSeq{src: s64}}
		r.rand = rand.New(ss)
	}
	return rand.New(&seqSource{seq: ss.seq, pos: ss.pos})
}

var (
	randSrcOnce   sync.Once
	randSrcOffset uintptr // of math/rand.Rand's src field
)
