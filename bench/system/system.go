// Package system is what every system under benchmark shares: the Group a
// replicated state machine presents to the benchmark, the counters it keeps,
// and the key/value state machine and command format of the one workload.
package system

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
)

// A Group is a replicated (or unreplicated) state machine running in this
// process. The benchmark reaches it through Submit, either directly (the
// in-memory rows) or through a TCP front-end in front of Submit (the TCP
// rows), so every system gets the same client path.
type Group interface {
	// Submit proposes cmd at the current leader, waits until it is
	// committed and applied there, and returns what KV.Apply returned.
	// It may be called from many goroutines at once. An error means the
	// command may or may not have been applied (no leader, ctx ended, …).
	Submit(ctx context.Context, cmd []byte) ([]byte, error)
	// Counters reports the replica-to-replica traffic so far.
	Counters() Counters
	// Close stops every replica and waits for their goroutines.
	Close()
}

// A Reader is a Group that also serves linearizable reads: Read returns
// what KV.Read returns for cmd (a ReadCommand) on a state that holds every
// command whose Submit returned before Read was called. How is the
// library's own way: a lease, a quorum round, a read index.
type Reader interface {
	Read(ctx context.Context, cmd []byte) ([]byte, error)
}

// Counters are cumulative since the group started.
type Counters struct {
	// Messages between replicas, counting each direction: an RPC and its
	// response are two. Heartbeats count too.
	Messages int64
	// WireBytes written on replica-to-replica connections (TCP rows only;
	// 0 for in-memory transports).
	WireBytes int64
}

// SnapshotEvery is every system's snapshot (checkpoint) policy: the state
// machine is snapshotted every this many applied commands, and the log
// before it trimmed, so that no system's log grows without bound.
const SnapshotEvery = 10000

// CommandSize is the size of every command of the workload.
const CommandSize = 88

// keysPerClient bounds the state: a client writes the same keys over and over.
const keysPerClient = 128

// Command returns the seq-th write command of client: 88 bytes, of which
// the first 16 are the key.
func Command(client, seq int) []byte {
	b := make([]byte, CommandSize)
	binary.LittleEndian.PutUint64(b[0:], uint64(client))
	binary.LittleEndian.PutUint64(b[8:], uint64(seq%keysPerClient))
	binary.LittleEndian.PutUint64(b[16:], uint64(seq))
	for i := 24; i < CommandSize; i++ {
		b[i] = byte(i + seq)
	}
	return b
}

// ReadCommand returns the seq-th read command of client: the key of its
// seq-th write command, and a marker byte (17 bytes: no write command is
// this short).
func ReadCommand(client, seq int) []byte {
	b := make([]byte, readCommandSize)
	binary.LittleEndian.PutUint64(b[0:], uint64(client))
	binary.LittleEndian.PutUint64(b[8:], uint64(seq%keysPerClient))
	b[16] = readMarker
	return b
}

const (
	readCommandSize = 17
	readMarker      = 'r'
)

// IsRead reports whether cmd is a ReadCommand.
func IsRead(cmd []byte) bool { return len(cmd) == readCommandSize && cmd[16] == readMarker }

// KeyOf is the key a command reads or writes.
func KeyOf(cmd []byte) [16]byte {
	var k [16]byte
	copy(k[:], cmd)
	return k
}

// ErrBadCommand is what Check reports for a result that is not a version.
var ErrBadCommand = errors.New("system: malformed command")

// KV is the state machine of the workload: a map from 16-byte keys to
// values. Apply stores the value and returns the key's new version (how
// many times it has been written), 8 bytes. It is not safe for concurrent
// use; replication libraries apply in order from one goroutine.
type KV struct {
	mu      sync.Mutex // only for Snapshot/Restore racing Apply in some libraries
	data    map[[16]byte]*kvEntry
	applied uint64
}

// kvEntry is one key's value and version: one map holds both, so a write
// looks its key up once (three replicas apply every command, and the
// lookup's cache misses were most of what Apply cost).
type kvEntry struct {
	version uint64
	value   []byte
	inline  [CommandSize - 16]byte // value's storage while it fits (every write of the workload): next to the version, one allocation
}

// set stores v as the entry's value.
func (e *kvEntry) set(v []byte) {
	if len(v) <= len(e.inline) {
		e.value = append(e.inline[:0], v...)
		return
	}
	e.value = append(e.value[:0], v...) // (a value in inline has too little room: append moves it)
}

// NewKV returns an empty KV.
func NewKV() *KV {
	return &KV{data: map[[16]byte]*kvEntry{}}
}

// Apply executes one command. A ReadCommand (through the log) changes
// nothing and returns the key's version, as Read does.
func (kv *KV) Apply(cmd []byte) []byte {
	kv.mu.Lock()
	kv.applied++
	if len(cmd) < 16 {
		kv.mu.Unlock()
		return nil
	}
	k := KeyOf(cmd)
	e := kv.data[k]
	if IsRead(cmd) {
		var v uint64
		if e != nil {
			v = e.version
		}
		kv.mu.Unlock()
		return binary.LittleEndian.AppendUint64(make([]byte, 0, 8), v)
	}
	if e == nil {
		e = &kvEntry{}
		kv.data[k] = e
	}
	e.set(cmd[16:])
	e.version++
	v := e.version
	kv.mu.Unlock()
	return binary.LittleEndian.AppendUint64(make([]byte, 0, 8), v)
}

// Read answers a ReadCommand from the state, changing nothing: the key's
// version, 0 if it was never written.
func (kv *KV) Read(cmd []byte) []byte {
	kv.mu.Lock()
	var v uint64
	if e := kv.data[KeyOf(cmd)]; e != nil {
		v = e.version
	}
	kv.mu.Unlock()
	return binary.LittleEndian.AppendUint64(make([]byte, 0, 8), v)
}

// Applied is how many commands have been applied.
func (kv *KV) Applied() uint64 {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return kv.applied
}

// Snapshot encodes the whole state.
func (kv *KV) Snapshot() []byte {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	size := 8
	for _, e := range kv.data {
		size += 16 + 8 + 4 + len(e.value)
	}
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, size), kv.applied)
	for k, e := range kv.data {
		b = append(b, k[:]...)
		b = binary.LittleEndian.AppendUint64(b, e.version)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.value)))
		b = append(b, e.value...)
	}
	return b
}

// Restore replaces the state with a Snapshot's. A malformed snapshot
// leaves an empty state.
func (kv *KV) Restore(b []byte) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.data = map[[16]byte]*kvEntry{}
	kv.applied = 0
	if len(b) < 8 {
		return
	}
	kv.applied = binary.LittleEndian.Uint64(b)
	b = b[8:]
	for len(b) >= 28 {
		var k [16]byte
		copy(k[:], b)
		ver := binary.LittleEndian.Uint64(b[16:])
		n := int(binary.LittleEndian.Uint32(b[24:]))
		b = b[28:]
		if n > len(b) {
			return
		}
		e := &kvEntry{version: ver}
		e.set(b[:n])
		kv.data[k] = e
		b = b[n:]
	}
}

// CheckResult verifies that a result is a version (8 bytes, ≥ 1).
func CheckResult(res []byte) error {
	if len(res) != 8 || binary.LittleEndian.Uint64(res) == 0 {
		return ErrBadCommand
	}
	return nil
}

// CheckReadResult verifies that a read's result is a version (8 bytes) and
// returns it.
func CheckReadResult(res []byte) (uint64, error) {
	if len(res) != 8 {
		return 0, ErrBadCommand
	}
	return binary.LittleEndian.Uint64(res), nil
}
