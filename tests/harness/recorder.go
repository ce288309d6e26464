package harness

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
)

// Recorder is the StateMachine the graded tests replicate. It keeps no data
// beyond a count and a running hash of the ops it applied, and reports every
// Apply to the cluster's checker, which holds the canonical order of ops.
// The result of an op is its op-number, so a client can tell whether its op
// ran once, where it should have.
type Recorder struct {
	mu      sync.Mutex
	check   *checker
	replica int
	life    int // the replica's life: a restart makes a fresh Recorder
	count   int // ops applied: the op-number of the last one
	hash    uint64
	pad     int // extra snapshot bytes, to model a service with large state
}

func newRecorder(check *checker, replica, life, pad int) *Recorder {
	return &Recorder{check: check, replica: replica, life: life, pad: pad}
}

// Apply executes op.
func (rc *Recorder) Apply(op []byte) []byte {
	rc.mu.Lock()
	rc.count++
	rc.hash = chain(rc.hash, op)
	n, h := rc.count, rc.hash
	rc.mu.Unlock()
	rc.check.applied(rc.replica, rc.life, n, op, h)
	return []byte(strconv.Itoa(n))
}

// Read answers a read-only op (vr.Reader, for lease reads) with the
// op-number of the last op applied, changing nothing. Through the log, a
// read is an op like any other: Apply counts it and answers with its own
// op-number. Either answer is at least the op-number of every op that
// completed before the read began, if the read is linearizable.
func (rc *Recorder) Read(op []byte) []byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return []byte(strconv.Itoa(rc.count))
}

// Snapshot encodes the count, the hash and pad bytes of filler.
func (rc *Recorder) Snapshot() []byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	buf := binary.AppendUvarint(nil, uint64(rc.count))
	buf = binary.BigEndian.AppendUint64(buf, rc.hash)
	return append(buf, bytes.Repeat([]byte{'x'}, rc.pad)...)
}

// Restore replaces the state with a snapshot, which the checker verifies
// against the canonical ops.
func (rc *Recorder) Restore(snap []byte) {
	count, n := binary.Uvarint(snap)
	if n <= 0 || len(snap) < n+8 {
		rc.check.fail("R%d restored a malformed snapshot of %d bytes", rc.replica, len(snap))
		return
	}
	hash := binary.BigEndian.Uint64(snap[n:])
	rc.mu.Lock()
	rc.count, rc.hash = int(count), hash
	rc.mu.Unlock()
	rc.check.restored(rc.replica, rc.life, int(count), hash)
}

// Executed returns the op-number of the last op this Recorder applied.
func (rc *Recorder) Executed() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.count
}

func chain(h uint64, op []byte) uint64 {
	f := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h)
	f.Write(b[:])
	f.Write(op)
	return f.Sum64()
}

// checker holds the canonical order of executed ops, built from every
// replica's Apply calls, and records the first violation it sees. It checks
// agreement (every replica executed the same op at each op-number), order
// and exactly-once (an op appears at one op-number only).
type checker struct {
	mu       sync.Mutex
	ops      map[int]string // op-number → op
	hashes   map[int]uint64 // op-number → running hash after it
	where    map[string]int // op → op-number
	restores []int          // checkpoints restored, by replica
	err      error
}

func newChecker(n int) *checker {
	return &checker{ops: map[int]string{}, hashes: map[int]uint64{}, where: map[string]int{}, restores: make([]int, n)}
}

func (ck *checker) fail(format string, args ...any) {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	ck.failLocked(format, args...)
}

func (ck *checker) failLocked(format string, args ...any) {
	if ck.err == nil {
		ck.err = fmt.Errorf(format, args...)
	}
}

func (ck *checker) applied(replica, life, n int, op []byte, hash uint64) {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	s := string(op)
	if prev, ok := ck.ops[n]; ok {
		if prev != s {
			ck.failLocked("agreement violated: R%d (life %d) executed %q as op %d, but another replica executed %q there", replica, life, s, n, prev)
		}
		return
	}
	if at, ok := ck.where[s]; ok && at != n {
		ck.failLocked("op %q executed twice: as op %d and, at R%d (life %d), as op %d", s, at, replica, life, n)
		return
	}
	ck.ops[n], ck.hashes[n], ck.where[s] = s, hash, n
}

func (ck *checker) restored(replica, life, n int, hash uint64) {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	ck.restores[replica]++
	if want, ok := ck.hashes[n]; ok && want != hash {
		ck.failLocked("R%d (life %d) restored a checkpoint at op %d that does not match the ops executed up to there", replica, life, n)
	}
}

// opNumberOf returns where op was executed, or 0.
func (ck *checker) opNumberOf(op string) int {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	return ck.where[op]
}

func (ck *checker) restoresOf(replica int) int {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	return ck.restores[replica]
}

func (ck *checker) failure() error {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	return ck.err
}
