package etcdraft

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// queue is an unbounded FIFO between a Ready loop and one link's goroutine.
// Unbounded so that sending never blocks the Ready loop; raft's own flow
// control (MaxInflightMsgs, MaxSizePerMsg) bounds what is in flight.
type queue[T any] struct {
	mu    sync.Mutex
	items []T
	ready chan struct{} // capacity 1: "items may be non-empty"
}

func newQueue[T any]() *queue[T] {
	return &queue[T]{ready: make(chan struct{}, 1)}
}

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take returns everything queued, in order, and keeps spare (emptied) as
// the next backing array, so a steady stream does not allocate.
func (q *queue[T]) take(spare []T) []T {
	clear(spare)
	q.mu.Lock()
	items := q.items
	q.items = spare[:0]
	q.mu.Unlock()
	return items
}

// inmem hands each message to the peer's node.Step from one goroutine per
// ordered pair, which preserves order per link as a TCP stream would.
// Messages are passed by pointer, not copied: raft does not modify a
// message or its entries once it is in a Ready, and v3.7's entry slices are
// capped so a receiver appending to them cannot overwrite the sender's log.
type inmem struct {
	wg sync.WaitGroup
	// cut[i] drops every message to or from replica i+1; tests use it to
	// make a follower fall behind the compacted log.
	cut [replicas]atomic.Bool
	// links[from-1][to-1], nil on the diagonal.
	links [replicas][replicas]*queue[*raftpb.Message]
}

func newInmem(g *group) *inmem {
	t := &inmem{}
	for i, from := range g.reps {
		for j, to := range g.reps {
			if i == j {
				continue
			}
			q := newQueue[*raftpb.Message]()
			t.links[i][j] = q
			t.wg.Add(1)
			go t.deliver(g, from, to, q)
		}
	}
	return t
}

func (t *inmem) send(from *replica, msgs []*raftpb.Message) {
	for _, m := range msgs {
		if to := m.GetTo(); to != from.id && to >= 1 && to <= replicas {
			t.links[from.id-1][to-1].push(m)
		}
	}
}

func (t *inmem) deliver(g *group, from, to *replica, q *queue[*raftpb.Message]) {
	defer t.wg.Done()
	var batch []*raftpb.Message
	for {
		select {
		case <-q.ready:
		case <-g.ctx.Done():
			return
		}
		batch = q.take(batch)
		for _, m := range batch {
			if t.cut[from.id-1].Load() || t.cut[to.id-1].Load() {
				if m.GetType() == raftpb.MsgSnap {
					from.node.ReportSnapshot(to.id, raft.SnapshotFailure)
				}
				continue
			}
			// Step fails only once the node stops or ctx ends (Close).
			err := to.node.Step(g.ctx, m)
			if m.GetType() == raftpb.MsgSnap {
				status := raft.SnapshotFinish
				if err != nil {
					status = raft.SnapshotFailure
				}
				from.node.ReportSnapshot(to.id, status)
			}
		}
	}
}

func (t *inmem) close() { t.wg.Wait() }

func (t *inmem) kill(r *replica) { t.cut[r.id-1].Store(true) }

// maxFrame bounds a received frame: MaxSizePerMsg plus room for a snapshot
// of the KV, which is far below this in the benchmark.
const maxFrame = 256 << 20

// tcpTransport connects every ordered pair of replicas with its own TCP
// connection over 127.0.0.1. A frame is a uvarint length followed by the
// protobuf encoding of one raftpb.Message.
type tcpTransport struct {
	g     *group
	lns   []net.Listener
	peers [replicas][replicas]*tcpPeer // [from-1][to-1]
	wg    sync.WaitGroup

	mu       sync.Mutex
	accepted [replicas][]net.Conn // by the replica that accepted them
	killed   [replicas]bool       // kill cut the replica off: it accepts nothing more
	closing  bool
}

// tcpPeer is the sending side of one connection.
type tcpPeer struct {
	from, to *replica
	conn     net.Conn
	q        *queue[*raftpb.Message]
}

func newTCP(g *group) (*tcpTransport, error) {
	t := &tcpTransport{g: g}
	for range g.reps {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			g.cancel() // lets started goroutines return
			t.close()
			return nil, fmt.Errorf("etcdraft: listen: %w", err)
		}
		t.lns = append(t.lns, ln)
	}
	for i, ln := range t.lns {
		t.wg.Add(1)
		go t.accept(ln, g.reps[i])
	}
	for i, from := range g.reps {
		for j, to := range g.reps {
			if i == j {
				continue
			}
			conn, err := net.Dial("tcp", t.lns[j].Addr().String())
			if err != nil {
				g.cancel()
				t.close()
				return nil, fmt.Errorf("etcdraft: dial %d->%d: %w", from.id, to.id, err)
			}
			p := &tcpPeer{from: from, to: to, conn: conn, q: newQueue[*raftpb.Message]()}
			t.peers[i][j] = p
			t.wg.Add(1)
			go t.write(p)
		}
	}
	return t, nil
}

func (t *tcpTransport) send(from *replica, msgs []*raftpb.Message) {
	for _, m := range msgs {
		if to := m.GetTo(); to != from.id && to >= 1 && to <= replicas {
			t.peers[from.id-1][to-1].q.push(m)
		}
	}
}

// write drains p's queue: it encodes everything queued into one buffer and
// writes it with one Write, so a busy link coalesces many messages per
// syscall. Encoding here rather than in the Ready loop is what etcd's
// rafthttp does too; it is safe because raft no longer touches a message
// once it is in a Ready, and entries are immutable.
func (t *tcpTransport) write(p *tcpPeer) {
	defer t.wg.Done()
	var (
		batch  []*raftpb.Message
		buf    []byte
		broken bool
		opts   = proto.MarshalOptions{UseCachedSize: true}
	)
	for {
		select {
		case <-p.q.ready:
		case <-t.g.ctx.Done():
			return
		}
		batch = p.q.take(batch)
		buf = buf[:0]
		snaps := 0
		for _, m := range batch {
			size := proto.Size(m) // also fills the size cache Marshal reuses
			buf = binary.AppendUvarint(buf, uint64(size))
			var err error
			if buf, err = opts.MarshalAppend(buf, m); err != nil {
				panic(fmt.Sprintf("etcdraft: marshal %v: %v", m.GetType(), err))
			}
			if m.GetType() == raftpb.MsgSnap {
				snaps++
			}
		}
		var err error
		if !broken {
			var n int
			n, err = p.conn.Write(buf)
			t.g.wireBytes.Add(int64(n))
			if err != nil {
				// No reconnection: this transport is for a benchmark on
				// loopback, where a failed write means we are closing.
				broken = true
			}
		}
		if broken {
			p.from.node.ReportUnreachable(p.to.id)
		}
		for range snaps {
			status := raft.SnapshotFinish
			if broken {
				status = raft.SnapshotFailure
			}
			p.from.node.ReportSnapshot(p.to.id, status)
		}
		if cap(buf) > 4*maxSizePerMsg {
			buf = nil // don't pin a buffer grown by a rare huge batch
		}
	}
}

func (t *tcpTransport) accept(ln net.Listener, r *replica) {
	defer t.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return // listener closed
		}
		t.mu.Lock()
		if t.closing || t.killed[r.id-1] {
			t.mu.Unlock()
			conn.Close()
			return
		}
		t.accepted[r.id-1] = append(t.accepted[r.id-1], conn)
		t.wg.Add(1) // under mu, before close can Wait
		t.mu.Unlock()
		go t.read(conn, r)
	}
}

// read decodes frames from one accepted connection and steps them into r.
func (t *tcpTransport) read(conn net.Conn, r *replica) {
	defer t.wg.Done()
	br := bufio.NewReaderSize(conn, 64<<10)
	var buf []byte
	for {
		size, err := binary.ReadUvarint(br)
		if err != nil {
			return // closed
		}
		if size > maxFrame {
			return
		}
		if uint64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			return
		}
		// Unmarshal copies bytes fields, so buf can be reused.
		m := &raftpb.Message{}
		if err := proto.Unmarshal(buf, m); err != nil {
			return
		}
		if err := r.node.Step(t.g.ctx, m); errors.Is(err, raft.ErrStopped) || t.g.ctx.Err() != nil {
			return
		}
	}
}

// close is called after ctx is canceled: writers return on ctx; closing
// the connections unblocks any Write and ends the readers.
func (t *tcpTransport) close() {
	t.mu.Lock()
	t.closing = true
	accepted := t.accepted
	t.mu.Unlock()
	for _, ln := range t.lns {
		ln.Close()
	}
	for i := range t.peers {
		for _, p := range t.peers[i] {
			if p != nil {
				p.conn.Close()
			}
		}
	}
	for _, cs := range accepted {
		for _, c := range cs {
			c.Close()
		}
	}
	t.wg.Wait()
}

// kill closes r's listener and every connection to or from it: its peers'
// writes to it fail from then on (no reconnection), and it reads nothing.
func (t *tcpTransport) kill(r *replica) {
	i := r.id - 1
	t.lns[i].Close()
	for _, p := range t.peers[i] {
		if p != nil {
			p.conn.Close()
		}
	}
	t.mu.Lock()
	t.killed[i] = true
	accepted := t.accepted[i]
	t.mu.Unlock()
	for _, c := range accepted {
		c.Close()
	}
}
