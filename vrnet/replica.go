package vrnet

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"vrlab/vr"
)

// Config says where a group's replicas are and how to talk to them.
type Config struct {
	ID       int          // this replica's index in Peers (StartReplica); ignored by NewClient
	Peers    []string     // host:port of every replica, by index
	Listen   string       // StartReplica: the address to listen on; "" = Peers[ID]
	TLS      *tls.Config  // mutual TLS (LoadTLS); nil = plain TCP
	MaxFrame int          // frame size limit; 0 = DefaultMaxFrame
	Logger   *slog.Logger // nil = slog.Default()

	// Timing; zero values take the defaults below.
	DialTimeout  time.Duration // 1 s
	WriteTimeout time.Duration // 2 s: a peer that reads nothing for this long is dropped
	MaxBackoff   time.Duration // 1 s: the longest pause between redials
	CallTimeout  time.Duration // client: 1 s for a reply (the replica waits up to 400 ms)
}

func (c *Config) fill() {
	if c.MaxFrame <= 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 2 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = time.Second
	}
}

// Tuning of the replica side.
const (
	minBackoff      = 20 * time.Millisecond
	peerQueue       = 1024             // messages waiting for one peer's connection
	helloTimeout    = 5 * time.Second  // to finish the TLS handshake and say hello
	maxConnRequests = 128              // requests of one client connection served at once
	idleTimeout     = 10 * time.Minute // a client connection silent this long is closed
	maxHello        = 64               // the size limit of the first frame
)

// Replica is a vr.Node served over TCP.
type Replica struct {
	listener
	node *vr.Node

	peers []*peer // outgoing connections, by replica; nil for this one

	sentMessages, sentBytes atomic.Int64 // to the other replicas
}

// StartReplica listens on its address and starts replica cfg.ID of the
// group, replicating sm. A restarted replica passes opts.Recovering and a
// fresh sm, as with vr.Make.
func StartReplica(cfg Config, sm vr.StateMachine, opts vr.Options) (*Replica, error) {
	cfg.fill()
	if cfg.ID < 0 || cfg.ID >= len(cfg.Peers) {
		return nil, fmt.Errorf("vrnet: replica id %d is not an index of the %d peers", cfg.ID, len(cfg.Peers))
	}
	addr := cfg.Listen
	if addr == "" {
		addr = cfg.Peers[cfg.ID]
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("vrnet: replica %d: %w", cfg.ID, err)
	}
	r := &Replica{
		listener: newListener(cfg, ln, cfg.Logger.With("replica", cfg.ID)),
		peers:    make([]*peer, len(cfg.Peers)),
	}
	r.batch = &replyBatch{} // the Node says when a batch of replies is done
	for j := range cfg.Peers {
		if j != cfg.ID {
			r.peers[j] = &peer{r: r, to: j, addr: cfg.Peers[j], queue: make(chan vr.Message, peerQueue)}
			r.wg.Add(1)
			go r.peers[j].run()
		}
	}
	r.node, err = vr.NewNode(cfg.ID, len(cfg.Peers), sm, opts, r)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.wg.Add(1)
	go r.accept(r.serve)
	r.log.Info("replica started", "listen", ln.Addr().String(), "peers", cfg.Peers, "recovering", opts.Recovering, "tls", cfg.TLS != nil)
	return r, nil
}

// Node is the replica's vr.Node.
func (r *Replica) Node() *vr.Node { return r.node }

// Addr is the address the replica listens on.
func (r *Replica) Addr() net.Addr { return r.ln.Addr() }

// Close stops the replica: the Node, the listener and every connection. It
// waits for the replica's goroutines to end.
func (r *Replica) Close() {
	r.shutdown(func() {
		if r.node != nil {
			r.node.Kill()
		}
	})
}

// Stats counts what a replica sent to the other replicas.
type Stats struct {
	Messages int64 // protocol messages
	Bytes    int64 // bytes written on the connections, frames and all
}

// Stats reports what the replica has sent to the other replicas so far.
func (r *Replica) Stats() Stats {
	return Stats{Messages: r.sentMessages.Load(), Bytes: r.sentBytes.Load()}
}

// RepliesDone writes the replies of the batch of callbacks the Node just
// ran (vr.ReplyBatcher): those bound for one client connection go out in
// one write.
func (r *Replica) RepliesDone() { r.batch.flush() }

// Send queues m for replica to (vr.Transport). It never blocks: when the
// peer's queue is full the message is dropped.
func (r *Replica) Send(to int, m vr.Message) {
	if to < 0 || to >= len(r.peers) || r.peers[to] == nil {
		return
	}
	select {
	case r.peers[to].queue <- m:
	default:
		r.log.Debug("queue full: message dropped", "to", to, "msg", m.String())
	}
}

// serve runs one incoming connection: the TLS handshake, the hello, then
// the frames of a replica or a client. A return closes the connection; the
// error says why (nil for a peer that hung up).
func (r *Replica) serve(c net.Conn) error {
	c, br, h, err := r.handshake(c)
	if err != nil {
		return err
	}
	switch h.Role {
	case roleReplica:
		if h.ID < 0 || h.ID >= len(r.cfg.Peers) || h.ID == r.cfg.ID {
			return fmt.Errorf("hello from replica %d, which is not another replica of the configuration (0..%d)", h.ID, len(r.cfg.Peers)-1)
		}
		if tc, ok := c.(*tls.Conn); ok {
			if err := checkReplicaCert(tc); err != nil {
				return fmt.Errorf("hello as replica %d refused: %w", h.ID, err)
			}
		}
		setPeerBuffers(c)
		return r.serveReplica(br, h.ID)
	case roleClient:
		return r.serveClient(c, br, r.node)
	}
	return fmt.Errorf("%w: hello with unknown role %d", ErrFrame, h.Role)
}

// peerBuffer is the socket buffer, each way, of a connection between
// replicas. A DOVIEWCHANGE, a NEWSTATE or a RECOVERYRESPONSE carries the log
// since the checkpoint (up to a megabyte with the defaults), often on a
// connection just dialled, whose kernel buffers start small (16 KB to send,
// a 64 KB window): it would cross in dozens of round trips, each through
// both processes' network pollers, and the view change would wait for it.
// (The kernel caps the size at net.core.rmem_max and wmem_max.)
const peerBuffer = 4 << 20

// setPeerBuffers gives a connection between replicas its socket buffers.
func setPeerBuffers(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetReadBuffer(peerBuffer)
		tc.SetWriteBuffer(peerBuffer)
	}
}

// serveReplica delivers the messages replica from sends on its connection.
func (r *Replica) serveReplica(br *bufio.Reader, from int) error {
	r.log.Debug("replica connected", "from", from)
	for {
		kind, p, err := readFrame(br, r.cfg.MaxFrame)
		if err != nil {
			return quiet(err)
		}
		if kind != kindMessage {
			return fmt.Errorf("%w: replica %d sent a frame of kind %d", ErrFrame, from, kind)
		}
		m, err := decodeMessage(p)
		if err != nil {
			return fmt.Errorf("replica %d: %w", from, err)
		}
		if m.From != from || m.To != r.cfg.ID {
			return fmt.Errorf("replica %d sent %v from %d to %d on its connection to %d", from, m.Type, m.From, m.To, r.cfg.ID)
		}
		r.node.Deliver(m)
	}
}

// peer is the outgoing connection to one replica, with its queue.
type peer struct {
	r     *Replica
	to    int
	addr  string
	queue chan vr.Message
}

// run dials the peer when there is something to send, writes the queue to
// it, and redials when the connection fails. A connection that fails within
// healthyAfter of its dial counts as a failed dial: the next waits with
// exponential backoff. While the peer is unreachable its messages are
// dropped. An outage is logged once, when it starts and when it ends.
func (p *peer) run() {
	defer p.r.wg.Done()
	log := p.r.log.With("peer", p.to, "addr", p.addr)
	backoff := minBackoff
	down := false // in an outage (logged)
	for {
		var first vr.Message
		select {
		case <-p.r.done:
			return
		case first = <-p.queue:
		}
		c, err := p.dial()
		if err == nil {
			healthy := false
			err = p.pump(c, first, func() {
				healthy = true
				if down {
					log.Info("peer reachable again")
					down = false
				}
			})
			c.Close()
			if p.r.closed() {
				return
			}
			if healthy {
				if err != nil {
					log.Warn("connection to peer lost; redialling", "err", err)
				}
				backoff = minBackoff
				continue
			}
		}
		if !down {
			log.Warn("peer unreachable; retrying with backoff", "err", err)
			down = true
		} else {
			log.Debug("peer still unreachable", "err", err)
		}
		p.drain()
		select {
		case <-p.r.done:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, p.r.cfg.MaxBackoff)
		p.drain()
	}
}

// healthyAfter is how long a connection must keep working to count as
// established.
const healthyAfter = 500 * time.Millisecond

// drain drops the messages queued for an unreachable peer.
func (p *peer) drain() {
	for {
		select {
		case <-p.queue:
		default:
			return
		}
	}
}

func (p *peer) dial() (net.Conn, error) {
	cfg := &p.r.cfg
	d := net.Dialer{Timeout: cfg.DialTimeout}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	defer cancel()
	go func() {
		select {
		case <-p.r.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	var c net.Conn
	var err error
	if cfg.TLS != nil {
		td := tls.Dialer{NetDialer: &d, Config: clientTLS(cfg.TLS, p.addr)}
		c, err = td.DialContext(ctx, "tcp", p.addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", p.addr)
	}
	if err != nil {
		return nil, err
	}
	setPeerBuffers(c)
	h := hello{Role: roleReplica, ID: cfg.ID, NPeer: len(cfg.Peers)}
	c.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
	if _, err := c.Write(appendFrame(nil, kindHello, func(b []byte) []byte { return appendHello(b, h) })); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// pump writes first and then whatever is queued, in batches: it encodes
// every message waiting and writes them in one go. It calls healthy once,
// after a write healthyAfter into the connection's life.
func (p *peer) pump(c net.Conn, first vr.Message, healthy func()) error {
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // Close and the peer's hang-up end a blocked write or wait
		select {
		case <-p.r.done:
			c.Close()
		case <-stop:
		}
	}()
	var buf []byte
	m := first
	for {
		buf = p.appendFrame(buf[:0], &m)
	batch:
		for len(buf) < 256<<10 {
			select {
			case m = <-p.queue:
				buf = p.appendFrame(buf, &m)
			default:
				break batch
			}
		}
		if len(buf) > 0 {
			c.SetWriteDeadline(time.Now().Add(p.r.cfg.WriteTimeout))
			if _, err := c.Write(buf); err != nil {
				return err
			}
			p.r.sentBytes.Add(int64(len(buf)))
			if healthy != nil && time.Since(start) >= healthyAfter {
				healthy()
				healthy = nil
			}
			if cap(buf) > 1<<20 {
				buf = nil // do not keep a checkpoint's buffer
			}
		}
		select {
		case <-p.r.done:
			return nil
		case m = <-p.queue:
		}
	}
}

// appendFrame appends m's frame to buf, unless the frame would exceed the
// size limit, which the peer would refuse: then it logs and drops m.
func (p *peer) appendFrame(buf []byte, m *vr.Message) []byte {
	n := len(buf)
	buf = appendFrame(buf, kindMessage, func(b []byte) []byte { return appendMessage(b, m) })
	if len(buf)-n-4 > p.r.cfg.MaxFrame {
		p.r.log.Error("message larger than the frame size limit: dropped", "to", p.to, "msg", m.String(),
			"bytes", len(buf)-n, "limit", p.r.cfg.MaxFrame)
		return buf[:n]
	}
	p.r.sentMessages.Add(1)
	return buf
}
