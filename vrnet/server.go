package vrnet

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"vrlab/vr"
)

// Handler answers client requests. A vr.Node is one; so is anything else
// that wants to be reached with vrnet's client protocol (the benchmark's
// unreplicated server, its front-ends for other replication libraries).
type Handler interface {
	// Request executes a request and returns its reply; a zero reply means
	// no answer in time, and the client tries again.
	Request(ctx context.Context, args vr.RequestArgs) vr.RequestReply
	// State answers a status frame.
	State() vr.State
}

// Submitter is a Handler that takes a request and calls done with its reply
// later, so that no goroutine need wait for it (vr.Node is one). done must
// not block; the server's does not.
type Submitter interface {
	Submit(args vr.RequestArgs, done func(vr.RequestReply))
}

// Server serves vrnet's client protocol in front of a Handler, without
// replication: clients reach it with NewClient and vr.NewClient exactly as
// they reach a one-replica group.
type Server struct {
	listener
	h Handler
}

// Serve listens on cfg.Listen (or cfg.Peers[cfg.ID]) and answers the
// clients that connect with h.
func Serve(cfg Config, h Handler) (*Server, error) {
	cfg.fill()
	addr := cfg.Listen
	if addr == "" {
		if cfg.ID < 0 || cfg.ID >= len(cfg.Peers) {
			return nil, fmt.Errorf("vrnet: server id %d is not an index of the %d peers", cfg.ID, len(cfg.Peers))
		}
		addr = cfg.Peers[cfg.ID]
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("vrnet: server: %w", err)
	}
	s := &Server{listener: newListener(cfg, ln, cfg.Logger.With("server", ln.Addr().String())), h: h}
	s.wg.Add(1)
	go s.accept(s.serve)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server and waits for its goroutines.
func (s *Server) Close() { s.shutdown(nil) }

func (s *Server) serve(c net.Conn) error {
	c, br, h, err := s.handshake(c)
	if err != nil {
		return err
	}
	if h.Role != roleClient {
		return fmt.Errorf("%w: hello with role %d; this server takes only clients", ErrFrame, h.Role)
	}
	return s.serveClient(c, br, s.h)
}

// listener is what a Replica and a Server share: the listening socket, the
// incoming connections (so that closing closes them), and shutdown.
type listener struct {
	cfg Config
	log *slog.Logger
	ln  net.Listener

	// batch, if set, gathers the replies a Submitter's callbacks produce
	// until the Submitter says the batch is done (Replica: its Node calls
	// RepliesDone); without it each reply is flushed as it comes.
	batch *replyBatch

	mu    sync.Mutex
	conns map[net.Conn]struct{} // incoming connections
	done  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

func newListener(cfg Config, ln net.Listener, log *slog.Logger) listener {
	return listener{cfg: cfg, log: log, ln: ln, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
}

// shutdown runs first (once), then closes the listener and every
// connection, and waits for the goroutines.
func (l *listener) shutdown(first func()) {
	l.once.Do(func() {
		if first != nil {
			first()
		}
		l.mu.Lock()
		close(l.done)
		l.ln.Close()
		for c := range l.conns {
			c.Close()
		}
		l.mu.Unlock()
	})
	l.wg.Wait()
}

func (l *listener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// track registers an incoming connection so that shutdown closes it; it
// returns false if the listener is closing.
func (l *listener) track(c net.Conn, add bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !add {
		delete(l.conns, c)
		return true
	}
	if l.closed() {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

// accept serves each incoming connection with serve, on its own goroutine,
// until shutdown. l.wg counts accept itself.
func (l *listener) accept(serve func(net.Conn) error) {
	defer l.wg.Done()
	pause := 5 * time.Millisecond
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if l.closed() {
				return
			}
			// Out of file descriptors, say: wait a little and go on.
			l.log.Warn("accept failed", "err", err)
			select {
			case <-l.done:
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, time.Second)
			continue
		}
		pause = 5 * time.Millisecond
		if !l.track(c, true) {
			c.Close()
			return
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer l.track(c, false)
			defer c.Close()
			if err := serve(c); err != nil && !l.closed() {
				// A protocol error, a refused peer, or just a broken
				// connection (which the sender's log reports).
				level := slog.LevelWarn
				var ne net.Error
				if errors.As(err, &ne) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
					level = slog.LevelDebug
				}
				l.log.Log(context.Background(), level, "connection closed", "remote", c.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// handshake runs the TLS handshake (with a TLS configuration) and reads the
// hello, within helloTimeout. It returns the connection to use from then
// on (the TLS one), its reader, and the hello.
func (l *listener) handshake(c net.Conn) (net.Conn, *bufio.Reader, hello, error) {
	c.SetDeadline(time.Now().Add(helloTimeout))
	if l.cfg.TLS != nil {
		tc := tls.Server(c, l.cfg.TLS)
		if err := tc.Handshake(); err != nil {
			return nil, nil, hello{}, fmt.Errorf("TLS handshake: %w", err)
		}
		c = tc
	}
	br := bufio.NewReader(c)
	kind, p, err := readFrame(br, maxHello) // nothing big before the peer says who it is
	if err != nil {
		return nil, nil, hello{}, quiet(err)
	}
	if kind != kindHello {
		return nil, nil, hello{}, fmt.Errorf("%w: first frame of kind %d, not a hello", ErrFrame, kind)
	}
	h, err := decodeHello(p)
	if err != nil {
		return nil, nil, hello{}, err
	}
	if h.NPeer != len(l.cfg.Peers) {
		return nil, nil, hello{}, fmt.Errorf("peer has a cluster of %d replicas, this one %d: check --cluster", h.NPeer, len(l.cfg.Peers))
	}
	c.SetDeadline(time.Time{})
	return c, br, h, nil
}

// serveClient answers a client's requests, each on its own goroutine (a
// request waits for its op to commit), up to maxConnRequests at once.
func (l *listener) serveClient(c net.Conn, br *bufio.Reader, h Handler) error {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	w := newConnWriter(c, l.cfg.WriteTimeout)
	write := w.write
	sub, canSubmit := h.(Submitter)
	sem := make(chan struct{}, maxConnRequests)
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		kind, p, err := readFrame(br, l.cfg.MaxFrame)
		if err != nil {
			return quiet(err)
		}
		// With more requests already read, the replies that handling this
		// one produces wait for the last of them: one write for them all.
		w.cork(br.Buffered() > 0)
		switch kind {
		case kindRequest:
			call, args, err := decodeRequest(p)
			if err != nil {
				return err
			}
			select {
			case sem <- struct{}{}:
			default:
				w.cork(false) // the replies that free a slot must go out
				select {      // a Submitter's callback frees the slot, even after Kill
				case sem <- struct{}{}:
				case <-l.done:
					return nil
				case <-ctx.Done():
					return nil
				}
			}
			if canSubmit {
				// No goroutine waits for the op: the reply is written by
				// whoever commits it, with the others of its batch.
				sub.Submit(args, func(reply vr.RequestReply) {
					frame := appendFrame(nil, kindReply, func(b []byte) []byte { return appendReply(b, call, &reply) })
					if l.batch != nil {
						l.batch.add(w, frame)
					} else {
						write(frame)
					}
					<-sem
				})
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				reply := h.Request(ctx, args)
				write(appendFrame(nil, kindReply, func(b []byte) []byte { return appendReply(b, call, &reply) }))
			}()
		case kindStatus:
			call, err := decodeCall(p)
			if err != nil {
				return err
			}
			st := h.State()
			write(appendFrame(nil, kindStatusReply, func(b []byte) []byte { return appendState(b, call, &st) }))
		default:
			return fmt.Errorf("%w: client sent a frame of kind %d", ErrFrame, kind)
		}
	}
}

// quiet maps the ways a peer hangs up to nil.
func quiet(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
