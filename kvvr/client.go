package kvvr

import (
	"context"
	"fmt"

	"vrlab/labrpc"
	"vrlab/vr"
)

// Clerk is a client of the key/value service. It runs one op at a time
// (concurrent calls take turns). It is a thin layer over a vr.Client: VR
// numbers the Clerk's requests, retries them, and its client-table executes
// each at most once, so a retried Append never applies twice.
type Clerk struct {
	vc *vr.Client
}

// MakeClerk makes a clerk of the service whose replicas servers reach.
func MakeClerk(servers []*labrpc.ClientEnd) *Clerk {
	return &Clerk{vc: vr.MakeClient(servers)}
}

// NewClerk makes a clerk that runs its ops through vc (a vr.Client over
// any transport: over TCP, a vrnet.Client). A process with many users
// gives each its own clerk, all over one vrnet.Client: each clerk is its
// own client (client-id, request-numbers), and their requests share the
// connections and go out together.
//
//	shared, _ := vrnet.NewClient(cfg)
//	ck := kvvr.NewClerk(vr.NewClient(len(cfg.Peers), shared))
func NewClerk(vc *vr.Client) *Clerk { return &Clerk{vc: vc} }

// ID is the client-id the replicas see (in VRDEBUG traces: c<ID>). The
// Clerk's n-th op is request-number n of that client.
func (ck *Clerk) ID() int64 { return ck.vc.ID() }

// Get returns the value of key, or "" if it has none. It keeps trying until
// the service answers.
func (ck *Clerk) Get(key string) string {
	v, err := ck.GetContext(context.Background(), key)
	if err != nil {
		panic(err) // only a bug makes the servers reject a Clerk's op
	}
	return v
}

// Put sets key to value. It keeps trying until the service answers.
func (ck *Clerk) Put(key, value string) {
	if err := ck.PutContext(context.Background(), key, value); err != nil {
		panic(err)
	}
}

// Append appends value to key's value ("" if it has none). It keeps trying
// until the service answers.
func (ck *Clerk) Append(key, value string) {
	if err := ck.AppendContext(context.Background(), key, value); err != nil {
		panic(err)
	}
}

// GetContext is Get that gives up when ctx ends, returning ctx's error.
func (ck *Clerk) GetContext(ctx context.Context, key string) (string, error) {
	//lab:begin KV
	// A read: with leases on, the primary answers it from its state
	// (Read, a vr.Reader) without a PREPARE; without, it goes through the
	// log. Either way it is linearizable.
	return ck.read(ctx, Op{Kind: OpGet, Key: key})
	//lab:stub return "", nil
	//lab:end
}

// PutContext is Put that gives up when ctx ends, returning ctx's error. A
// Put given up on may still take effect later.
func (ck *Clerk) PutContext(ctx context.Context, key, value string) error {
	//lab:begin KV
	_, err := ck.invoke(ctx, Op{Kind: OpPut, Key: key, Value: value})
	return err
	//lab:stub return nil
	//lab:end
}

// AppendContext is Append that gives up when ctx ends, returning ctx's
// error. An Append given up on may still take effect later (but once at
// most).
func (ck *Clerk) AppendContext(ctx context.Context, key, value string) error {
	//lab:begin KV
	_, err := ck.invoke(ctx, Op{Kind: OpAppend, Key: key, Value: value})
	return err
	//lab:stub return nil
	//lab:end
}

//lab:begin KV

// invoke executes op through VR and decodes its result.
func (ck *Clerk) invoke(ctx context.Context, op Op) (string, error) {
	result, err := ck.vc.InvokeContext(ctx, EncodeOp(op))
	return ck.decode(op, result, err)
}

// read executes op, a Get, as a read (vr.Client.ReadContext) and decodes
// its result.
func (ck *Clerk) read(ctx context.Context, op Op) (string, error) {
	result, err := ck.vc.ReadContext(ctx, EncodeOp(op))
	return ck.decode(op, result, err)
}

// decode is the value in op's result, or the error of running it.
func (ck *Clerk) decode(op Op, result []byte, err error) (string, error) {
	if err != nil {
		return "", err
	}
	v, err := decodeResult(result)
	if err != nil {
		return "", fmt.Errorf("%v: %w", op, err)
	}
	return v, nil
}

//lab:end
