package vrnet

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"vrlab/vr"
)

// Client is the TCP transport of a vr.Client (vr.ClientTransport): one
// connection to each replica, dialled when first needed and redialled after
// a failure (with backoff), on which calls are multiplexed by call id.
//
//	c, err := vrnet.NewClient(cfg)
//	vc := vr.NewClient(len(cfg.Peers), c)
//
// One Client may carry many vr.Clients (each with its own client-id), from
// many goroutines: that is how a process with many users should reach the
// group. Their calls share the connections, each call waits only for its
// own reply, and requests that arrive while a write is in progress go out
// together in the next write: one system call for many requests, where a
// connection per user costs one each.
//
//	shared, err := vrnet.NewClient(cfg)
//	for i := range users {
//		clerks[i] = kvvr.NewClerk(vr.NewClient(len(cfg.Peers), shared))
//	}
type Client struct {
	cfg   Config
	conns []*clientConn
	stats clientStats
}

// ClientStats counts what a Client sent: Frames requests and status
// calls, in Writes system calls. Frames/Writes is how well the writes
// coalesce (1 for a lone caller).
type ClientStats struct {
	Frames, Writes int64
}

type clientStats struct{ frames, writes atomic.Int64 }

// Stats reports what the client has sent so far.
func (c *Client) Stats() ClientStats {
	return ClientStats{Frames: c.stats.frames.Load(), Writes: c.stats.writes.Load()}
}

// NewClient makes the transport of a client of the group cfg.Peers.
func NewClient(cfg Config) (*Client, error) {
	cfg.fill()
	if len(cfg.Peers) == 0 {
		return nil, errors.New("vrnet: a client needs the replicas' addresses")
	}
	c := &Client{cfg: cfg}
	for i, addr := range cfg.Peers {
		c.conns = append(c.conns, &clientConn{cfg: &c.cfg, server: i, addr: addr, stats: &c.stats})
	}
	return c, nil
}

// Call sends a request to replica server and waits for its reply, at most
// cfg.CallTimeout (vr.ClientTransport).
func (c *Client) Call(server int, args *vr.RequestArgs, reply *vr.RequestReply) bool {
	if server < 0 || server >= len(c.conns) {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CallTimeout)
	defer cancel()
	p, err := c.conns[server].call(ctx, kindRequest, func(b []byte, call uint64) []byte { return appendRequest(b, call, args) })
	if err != nil {
		return false
	}
	_, r, err := decodeReply(p)
	if err != nil {
		c.cfg.Logger.Warn("bad reply", "server", server, "err", err)
		c.conns[server].reset(err)
		return false
	}
	*reply = r
	return true
}

// Status asks replica server for its state.
func (c *Client) Status(ctx context.Context, server int) (vr.State, error) {
	if server < 0 || server >= len(c.conns) {
		return vr.State{}, fmt.Errorf("vrnet: no replica %d", server)
	}
	p, err := c.conns[server].call(ctx, kindStatus, appendCall)
	if err != nil {
		return vr.State{}, err
	}
	_, st, err := decodeState(p)
	if err != nil {
		c.conns[server].reset(err)
	}
	return st, err
}

// Close closes every connection; calls in progress fail.
func (c *Client) Close() {
	for _, cc := range c.conns {
		cc.close()
	}
}

// clientConn is the connection to one replica.
type clientConn struct {
	cfg    *Config
	stats  *clientStats
	server int
	addr   string

	mu       sync.Mutex
	conn     net.Conn // nil when not connected
	pending  map[uint64]chan []byte
	nextCall uint64
	retryAt  time.Time // no dial before this (backoff after a failure)
	backoff  time.Duration
	closed   bool
	readers  sync.WaitGroup // the reader and writer goroutines of conn
	out      *coalescer     // the writes of conn
}

// coalescer writes the frames of one connection. Callers queue frames and
// return; a writer goroutine of the connection takes everything queued in
// one write. While it writes, the requests of other goroutines pile up
// behind it and go out together next: under load, one system call carries
// many requests, where a write per call would cost one each.
type coalescer struct {
	mu    sync.Mutex
	buf   []byte        // the frames queued, filled by callers
	spare []byte        // the buffer last written, to be filled next; guarded by mu
	wake  chan struct{} // a frame is queued (capacity 1: one wake-up is enough)
	done  chan struct{} // closed when the connection fails: the writer stops
}

func newCoalescer() *coalescer {
	return &coalescer{wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// call sends a frame of kind made by encode (given the call id) and waits
// for the answer's payload.
func (cc *clientConn) call(ctx context.Context, kind byte, encode func([]byte, uint64) []byte) ([]byte, error) {
	out, call, ch, err := cc.start(ctx)
	if err != nil {
		return nil, err
	}
	out.queue(kind, func(b []byte) []byte { return encode(b, call) })
	cc.stats.frames.Add(1)
	select {
	case p, ok := <-ch:
		if !ok {
			return nil, errors.New("vrnet: connection lost")
		}
		return p, nil
	case <-ctx.Done():
		cc.mu.Lock()
		delete(cc.pending, call)
		cc.mu.Unlock()
		return nil, ctx.Err()
	}
}

// queue adds a frame for the writer. If the connection fails before it
// goes out, the call waiting for its answer fails with the connection.
func (w *coalescer) queue(kind byte, payload func([]byte) []byte) {
	w.mu.Lock()
	w.buf = appendFrame(w.buf, kind, payload)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // the writer is awake already and will see it
	}
}

// take hands the writer everything queued, or nil if nothing is (a
// wake-up for frames an earlier write took). Two buffers take turns:
// callers fill one while the other is written. The spare one becomes the
// queue and is forgotten: a buffer that callers fill must never also be
// the one written.
func (w *coalescer) take() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return nil
	}
	buf := w.buf
	w.buf, w.spare = w.spare[:0], nil
	return buf
}

// written gives back a buffer the writer has written, to be filled next
// time, unless it grew too large to keep.
func (w *coalescer) written(buf []byte) {
	if cap(buf) > maxSpareWrite {
		return
	}
	w.mu.Lock()
	w.spare = buf
	w.mu.Unlock()
}

// runWriter is the connection's writer: it writes what is queued, all of it at
// once, until the connection fails (fail closes done).
func (cc *clientConn) runWriter(conn net.Conn, w *coalescer) {
	defer cc.readers.Done()
	for {
		select {
		case <-w.wake:
		case <-w.done:
			return
		}
		// Let the callers that are runnable now (woken by one read of many
		// replies, say) queue their requests first, so that one write takes
		// them all: gRPC's writer yields the same way. With nobody else
		// runnable this returns at once.
		runtime.Gosched()
		buf := w.take()
		if buf == nil {
			continue
		}
		conn.SetWriteDeadline(time.Now().Add(cc.cfg.WriteTimeout))
		if _, err := conn.Write(buf); err != nil {
			cc.fail(conn, err)
			return
		}
		cc.stats.writes.Add(1)
		w.written(buf)
	}
}

// maxSpareWrite bounds the write buffer a connection keeps between writes.
const maxSpareWrite = 64 << 10

// start returns the connection's writer (dialling it if needed) and a new
// call id with its channel.
func (cc *clientConn) start(ctx context.Context) (*coalescer, uint64, chan []byte, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.closed {
		return nil, 0, nil, net.ErrClosed
	}
	if cc.conn == nil {
		if time.Now().Before(cc.retryAt) {
			return nil, 0, nil, fmt.Errorf("vrnet: replica %d unreachable; next try in %v", cc.server, time.Until(cc.retryAt).Round(time.Millisecond))
		}
		conn, err := cc.dial(ctx)
		if err != nil {
			cc.backoff = min(max(2*cc.backoff, minBackoff), cc.cfg.MaxBackoff)
			cc.retryAt = time.Now().Add(cc.backoff)
			cc.cfg.Logger.Debug("dial failed", "server", cc.server, "addr", cc.addr, "err", err)
			return nil, 0, nil, err
		}
		cc.backoff = 0
		cc.conn, cc.out = conn, newCoalescer()
		cc.pending = map[uint64]chan []byte{}
		cc.readers.Add(2)
		go cc.read(conn)
		go cc.runWriter(conn, cc.out)
	}
	cc.nextCall++
	ch := make(chan []byte, 1)
	cc.pending[cc.nextCall] = ch
	return cc.out, cc.nextCall, ch, nil
}

func (cc *clientConn) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cc.cfg.DialTimeout)
	defer cancel()
	d := net.Dialer{}
	var c net.Conn
	var err error
	if cc.cfg.TLS != nil {
		td := tls.Dialer{NetDialer: &d, Config: clientTLS(cc.cfg.TLS, cc.addr)}
		c, err = td.DialContext(ctx, "tcp", cc.addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", cc.addr)
	}
	if err != nil {
		return nil, err
	}
	h := hello{Role: roleClient, ID: -1, NPeer: len(cc.cfg.Peers)}
	c.SetWriteDeadline(time.Now().Add(cc.cfg.WriteTimeout))
	if _, err := c.Write(appendFrame(nil, kindHello, func(b []byte) []byte { return appendHello(b, h) })); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// read hands each answer to its call, until the connection fails.
func (cc *clientConn) read(conn net.Conn) {
	defer cc.readers.Done()
	br := bufio.NewReader(conn)
	for {
		kind, p, err := readFrame(br, cc.cfg.MaxFrame)
		if err == nil && kind != kindReply && kind != kindStatusReply {
			err = fmt.Errorf("%w: replica sent a frame of kind %d", ErrFrame, kind)
		}
		var call uint64
		if err == nil {
			d := decoder{b: p}
			if call = d.uvarint(); d.err != nil {
				err = d.err
			}
		}
		if err != nil {
			cc.fail(conn, err)
			return
		}
		cc.mu.Lock()
		ch := cc.pending[call]
		delete(cc.pending, call)
		cc.mu.Unlock()
		if ch != nil {
			ch <- p
		}
	}
}

// fail closes conn, if it is still the current connection, and fails its
// calls.
func (cc *clientConn) fail(conn net.Conn, err error) {
	conn.Close()
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.conn != conn {
		return
	}
	if !cc.closed && quiet(err) != nil {
		cc.cfg.Logger.Debug("connection to replica lost", "server", cc.server, "addr", cc.addr, "err", err)
	}
	cc.conn = nil
	close(cc.out.done)
	for call, ch := range cc.pending {
		close(ch)
		delete(cc.pending, call)
	}
}

// reset drops the connection after a malformed answer.
func (cc *clientConn) reset(err error) {
	cc.mu.Lock()
	conn := cc.conn
	cc.mu.Unlock()
	if conn != nil {
		cc.fail(conn, err)
	}
}

func (cc *clientConn) close() {
	cc.mu.Lock()
	cc.closed = true
	conn := cc.conn
	cc.mu.Unlock()
	if conn != nil {
		cc.fail(conn, net.ErrClosed)
	}
	cc.readers.Wait()
}
