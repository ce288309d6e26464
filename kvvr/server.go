package kvvr

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"vrlab/labrpc"
	"vrlab/vr"
)

// KVServer is one replica of the key/value service: a vr.Node replicating
// the KVServer's own state, which it serves as the Node's vr.StateMachine.
type KVServer struct {
	node *vr.Node

	mu sync.Mutex // guards the state: VR calls Apply under its lock, tests call Snapshot from outside
	//lab:begin KV
	data map[string]string
	//lab:end
}

// StartKVServer starts replica me of the service; servers[j] reaches
// replica j. A restarted replica is a fresh StartKVServer with
// opts.Recovering set: it starts with an empty map, and VR's recovery
// protocol gives it its state back (through Restore and Apply).
func StartKVServer(servers []*labrpc.ClientEnd, me int, opts vr.Options) *KVServer {
	kv := newKVServer()
	kv.node = vr.Make(servers, me, kv, opts)
	return kv
}

// NewStore returns a KVServer with an empty state and no Node: the
// vr.StateMachine to give a Node built elsewhere (over TCP, by package
// vrnet). Kill, Node and Services belong to servers from StartKVServer.
func NewStore() *KVServer { return newKVServer() }

// newKVServer returns a KVServer with an empty state and no Node yet (the
// unit tests use it as a bare StateMachine).
func newKVServer() *KVServer {
	kv := &KVServer{}
	//lab:begin KV
	kv.data = map[string]string{}
	//lab:end
	return kv
}

// Kill stops the server.
func (kv *KVServer) Kill() { kv.node.Kill() }

// Node is the server's VR replica.
func (kv *KVServer) Node() *vr.Node { return kv.node }

// Services is what to register on the server's labrpc server.
func (kv *KVServer) Services() []*labrpc.Service { return kv.node.Services() }

// Apply executes one committed op (vr.StateMachine) and returns its result:
// the value for a Get ("" for a missing key), nothing for a Put or an
// Append, an error result for bytes that are not an op. It never panics on
// bad input: a malformed op changes nothing.
func (kv *KVServer) Apply(op []byte) []byte {
	//lab:begin KV
	o, err := DecodeOp(op)
	if err != nil {
		return errorResult(err)
	}
	kv.mu.Lock()
	defer kv.mu.Unlock()
	switch o.Kind {
	case OpGet:
		return okResult(kv.data[o.Key])
	case OpPut:
		kv.data[o.Key] = o.Value
	case OpAppend:
		kv.data[o.Key] += o.Value
	}
	return okResult("")
	//lab:stub return nil
	//lab:end
}

// Read serves a Get without changing the state (vr.Reader): with leases on,
// a primary holding them answers Gets with it, without a PREPARE (Part F).
// Any other op gets an error result.
func (kv *KVServer) Read(op []byte) []byte {
	//lab:begin KV
	o, err := DecodeOp(op)
	if err != nil {
		return errorResult(err)
	}
	if o.Kind != OpGet {
		return errorResult(fmt.Errorf("kvvr: %v is not read-only", o.Kind))
	}
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return okResult(kv.data[o.Key])
	//lab:stub return nil
	//lab:end
}

// Snapshot encodes the state for a checkpoint (vr.StateMachine). Equal
// states give equal bytes: the keys are sorted. It returns a fresh slice
// each time, since VR shares it with messages in flight.
//
//	uvarint number of keys, then per key in sorted order:
//	uvarint len(key), key, uvarint len(value), value
func (kv *KVServer) Snapshot() []byte {
	//lab:begin KV
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return encodeSnapshot(kv.data)
	//lab:stub return nil
	//lab:end
}

// Restore replaces the state with a snapshot made by Snapshot
// (vr.StateMachine). A snapshot comes only from another replica's
// Snapshot, so a malformed one is a bug, and Restore panics with a clear
// message rather than run on with a state that silently differs.
func (kv *KVServer) Restore(snapshot []byte) {
	//lab:begin KV
	data, err := decodeSnapshot(snapshot)
	if err != nil {
		panic(fmt.Sprintf("kvvr: Restore: %v", err))
	}
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.data = data
	//lab:end
}

// encodeSnapshot encodes data in Snapshot's format.
func encodeSnapshot(data map[string]string) []byte {
	//lab:begin KV
	keys := make([]string, 0, len(data))
	size := binary.MaxVarintLen64
	for k, v := range data {
		keys = append(keys, k)
		size += 2*binary.MaxVarintLen64 + len(k) + len(v)
	}
	slices.Sort(keys)
	buf := make([]byte, 0, size)
	buf = binary.AppendUvarint(buf, uint64(len(keys)))
	for _, k := range keys {
		buf = appendString(buf, k)
		buf = appendString(buf, data[k])
	}
	return buf
	//lab:stub return nil
	//lab:end
}

// decodeSnapshot decodes a snapshot made by encodeSnapshot. It returns an
// error wrapping ErrMalformed, and never panics, for anything else.
func decodeSnapshot(b []byte) (map[string]string, error) {
	//lab:begin KV
	n, w := binary.Uvarint(b)
	if w <= 0 {
		return nil, fmt.Errorf("%w: snapshot of %d bytes: bad key count", ErrMalformed, len(b))
	}
	rest := b[w:]
	// Each key takes at least two bytes (two lengths): a count beyond that
	// is malformed, and must not size an allocation.
	if n > uint64(len(rest)/2) {
		return nil, fmt.Errorf("%w: snapshot claims %d keys in %d bytes", ErrMalformed, n, len(rest))
	}
	data := make(map[string]string, n)
	prev := ""
	for i := uint64(0); i < n; i++ {
		var k, v string
		var err error
		if k, rest, err = readString(rest); err != nil {
			return nil, fmt.Errorf("%w: snapshot key %d: %v", ErrMalformed, i, err)
		}
		if v, rest, err = readString(rest); err != nil {
			return nil, fmt.Errorf("%w: snapshot value of key %q: %v", ErrMalformed, k, err)
		}
		if i > 0 && k <= prev {
			return nil, fmt.Errorf("%w: snapshot keys out of order: %q after %q", ErrMalformed, k, prev)
		}
		data[k], prev = v, k
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the snapshot's %d keys", ErrMalformed, len(rest), n)
	}
	return data, nil
	//lab:stub return nil, ErrMalformed
	//lab:end
}
