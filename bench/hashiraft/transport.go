package hashiraft

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// innerTransport is what both hashicorp transports implement. raft
// type-asserts WithPreVote (pre-vote is used only if present) and
// WithClose (Shutdown closes the transport), so the wrapper must offer
// both to behave exactly like the unwrapped transport. WithPeers is not
// asserted by raft; it only wires InmemTransports, done before wrapping.
type innerTransport interface {
	raft.Transport
	raft.WithPreVote
	raft.WithClose
}

var (
	_ innerTransport = (*raft.NetworkTransport)(nil)
	_ innerTransport = (*raft.InmemTransport)(nil)
	_ innerTransport = (*countingTransport)(nil)
)

// countingTransport counts replica-to-replica messages on the sending
// side: every RPC that returns without error is a request and a response,
// two messages. Heartbeats are AppendEntries and count the same way.
type countingTransport struct {
	inner  innerTransport
	counts *counters
}

// sent counts one completed RPC.
func (t *countingTransport) sent(err error) error {
	if err == nil {
		t.counts.messages.Add(2)
	}
	return err
}

func (t *countingTransport) Consumer() <-chan raft.RPC { return t.inner.Consumer() }

func (t *countingTransport) LocalAddr() raft.ServerAddress { return t.inner.LocalAddr() }

func (t *countingTransport) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	p, err := t.inner.AppendEntriesPipeline(id, target)
	if err != nil {
		// Keep raft.ErrPipelineReplicationNotSupported recognisable.
		return nil, err
	}
	return &countingPipeline{inner: p, t: t}, nil
}

func (t *countingTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	return t.sent(t.inner.AppendEntries(id, target, args, resp))
}

func (t *countingTransport) RequestVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestVoteRequest, resp *raft.RequestVoteResponse) error {
	return t.sent(t.inner.RequestVote(id, target, args, resp))
}

func (t *countingTransport) RequestPreVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	return t.sent(t.inner.RequestPreVote(id, target, args, resp))
}

func (t *countingTransport) InstallSnapshot(id raft.ServerID, target raft.ServerAddress, args *raft.InstallSnapshotRequest, resp *raft.InstallSnapshotResponse, data io.Reader) error {
	return t.sent(t.inner.InstallSnapshot(id, target, args, resp, data))
}

func (t *countingTransport) TimeoutNow(id raft.ServerID, target raft.ServerAddress, args *raft.TimeoutNowRequest, resp *raft.TimeoutNowResponse) error {
	return t.sent(t.inner.TimeoutNow(id, target, args, resp))
}

func (t *countingTransport) EncodePeer(id raft.ServerID, addr raft.ServerAddress) []byte {
	return t.inner.EncodePeer(id, addr)
}

func (t *countingTransport) DecodePeer(b []byte) raft.ServerAddress { return t.inner.DecodePeer(b) }

func (t *countingTransport) SetHeartbeatHandler(cb func(rpc raft.RPC)) {
	t.inner.SetHeartbeatHandler(cb)
}

func (t *countingTransport) Close() error { return t.inner.Close() }

// countingPipeline counts each pipelined AppendEntries once it is sent;
// its response arrives later through Consumer.
type countingPipeline struct {
	inner raft.AppendPipeline
	t     *countingTransport
}

func (p *countingPipeline) AppendEntries(args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	f, err := p.inner.AppendEntries(args, resp)
	p.t.sent(err)
	return f, err
}

func (p *countingPipeline) Consumer() <-chan raft.AppendFuture { return p.inner.Consumer() }

func (p *countingPipeline) Close() error { return p.inner.Close() }

// streamLayer is raft.TCPStreamLayer's behaviour on 127.0.0.1:0, with
// every accepted and dialled connection counting the bytes written to it
// and remembered so Close can end them.
type streamLayer struct {
	net.Listener
	counts *counters

	mu    sync.Mutex
	conns map[*countingConn]struct{}
	done  bool
}

var _ raft.StreamLayer = (*streamLayer)(nil)

func listen(c *counters) (*streamLayer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &streamLayer{Listener: l, counts: c, conns: map[*countingConn]struct{}{}}, nil
}

func (s *streamLayer) Accept() (net.Conn, error) {
	c, err := s.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return s.track(c, true), nil
}

func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", string(addr), timeout)
	if err != nil {
		return nil, err
	}
	return s.track(c, false), nil
}

func (s *streamLayer) track(c net.Conn, accepted bool) net.Conn {
	cc := &countingConn{Conn: c, s: s, accepted: accepted}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		_ = c.Close()
	} else {
		s.conns[cc] = struct{}{}
	}
	return cc
}

// closeConns closes the connections this side dialled (and any dialled
// later); the peer's handler then reads EOF and closes its end quietly.
func (s *streamLayer) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	for c := range s.conns {
		if !c.accepted {
			_ = c.Conn.Close()
			delete(s.conns, c)
		}
	}
}

// open reports how many accepted connections are still open.
func (s *streamLayer) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// closeAll closes whatever is still open.
func (s *streamLayer) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.Conn.Close()
	}
	clear(s.conns)
}

type countingConn struct {
	net.Conn
	s        *streamLayer
	accepted bool
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.s.counts.wireBytes.Add(int64(n))
	return n, err
}

func (c *countingConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}
