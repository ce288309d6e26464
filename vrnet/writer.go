package vrnet

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// connWriter writes the frames of a client connection without ever
// blocking its caller: a reply is written by whoever committed its op (see
// vr.Node.Submit), and a slow client must not stall the replica. write
// tries the socket once, without waiting (plain TCP); what does not go at
// once, or arrives while a write is in progress, goes on a goroutine that
// may wait for the client, up to the write timeout, and then gives up on
// the connection.
type connWriter struct {
	c       net.Conn
	raw     syscall.RawConn // nil for TLS: every write then goes through the goroutine
	timeout time.Duration

	mu    sync.Mutex
	queue []byte // frames waiting for the goroutine
	busy  bool   // a write is in progress (inline or the goroutine)
	err   error  // the connection failed: nothing more is written
}

func newConnWriter(c net.Conn, timeout time.Duration) *connWriter {
	w := &connWriter{c: c, timeout: timeout}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			w.raw = raw
		}
	}
	return w
}

// write queues frame and returns at once.
func (w *connWriter) write(frame []byte) {
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return
	}
	if w.busy || w.raw == nil {
		w.queue = append(w.queue, frame...)
		if !w.busy {
			w.busy = true
			go w.drain()
		}
		w.mu.Unlock()
		return
	}
	w.busy = true
	w.mu.Unlock()

	n := w.tryWrite(frame)

	w.mu.Lock()
	if n < len(frame) || len(w.queue) > 0 {
		// The rest goes first, then what queued meanwhile.
		w.queue = append(frame[n:len(frame):len(frame)], w.queue...)
		go w.drain()
	} else {
		w.busy = false
	}
	w.mu.Unlock()
}

// tryWrite writes what the socket takes now, without waiting, and returns
// how much that was.
func (w *connWriter) tryWrite(b []byte) int {
	written := 0
	err := w.raw.Write(func(fd uintptr) bool {
		for written < len(b) {
			n, err := syscall.Write(int(fd), b[written:])
			if n > 0 {
				written += n
			}
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				break
			}
		}
		return true // never wait here
	})
	if err != nil && !errors.Is(err, syscall.EAGAIN) {
		return written // the goroutine's write will see the error too
	}
	return written
}

// drain writes the queue until it is empty; it owns busy meanwhile.
func (w *connWriter) drain() {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 || w.err != nil {
			w.busy = false
			w.mu.Unlock()
			return
		}
		buf := w.queue
		w.queue = nil
		w.mu.Unlock()
		w.c.SetWriteDeadline(time.Now().Add(w.timeout))
		if _, err := w.c.Write(buf); err != nil {
			w.mu.Lock()
			w.err = err
			w.queue = nil
			w.busy = false
			w.mu.Unlock()
			w.c.Close() // the reader sees it and returns
			return
		}
	}
}
