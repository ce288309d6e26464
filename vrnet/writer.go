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
// vr.Node.Submit), and a slow client must not stall the replica. flush
// tries the socket once, without waiting (plain TCP); what does not go at
// once, or arrives while a write is in progress, goes on a goroutine that
// may wait for the client, up to the write timeout, and then gives up on
// the connection.
//
// Replies bound for one connection go out together where they can: frames
// are queued, and the queue is written when the batch that produced them
// ends (flush). The connection's reader corks the writer while it has more
// requests buffered, so that the replies it produces itself (lease reads,
// an answer given at once) wait for the last of them; the Node's batch of
// replies from one commit is flushed when the Node says it is done
// (vr.ReplyBatcher, replyBatch).
type connWriter struct {
	c       net.Conn
	raw     syscall.RawConn // nil for TLS: every write then goes through the goroutine
	timeout time.Duration

	mu     sync.Mutex
	queue  []byte // frames not yet written
	busy   bool   // a write is in progress (inline or the goroutine)
	corked bool   // the reader has more requests buffered: flush waits for it
	listed bool   // in a replyBatch, to be flushed when the batch ends
	err    error  // the connection failed: nothing more is written
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

// write queues frame and flushes; it returns at once.
func (w *connWriter) write(frame []byte) {
	w.enqueue(frame)
	w.flush()
}

// enqueue adds frame to the queue without writing anything.
func (w *connWriter) enqueue(frame []byte) {
	w.mu.Lock()
	if w.err == nil {
		w.queue = append(w.queue, frame...)
	}
	w.mu.Unlock()
}

// cork holds the queue back (yes) or lets it go (no, which flushes).
func (w *connWriter) cork(yes bool) {
	w.mu.Lock()
	w.corked = yes
	w.mu.Unlock()
	if !yes {
		w.flush()
	}
}

// flush writes the queue, unless the writer is corked or a write is in
// progress (whose goroutine takes the queue next). It tries the socket
// once without waiting and leaves what does not go to the goroutine.
func (w *connWriter) flush() {
	w.mu.Lock()
	if w.corked || w.busy || w.err != nil || len(w.queue) == 0 {
		w.mu.Unlock()
		return
	}
	w.busy = true
	if w.raw == nil {
		w.mu.Unlock()
		go w.drain()
		return
	}
	buf := w.queue
	w.queue = nil
	w.mu.Unlock()

	n := w.tryWrite(buf)

	w.mu.Lock()
	if n < len(buf) || len(w.queue) > 0 {
		// The rest goes first, then what queued meanwhile.
		w.queue = append(buf[n:len(buf):len(buf)], w.queue...)
		go w.drain()
	} else {
		w.busy = false
		if cap(buf) <= maxSpareWrite {
			w.queue = buf[:0] // reuse the buffer
		}
	}
	w.mu.Unlock()
}

// replyBatch lists the writers that hold replies of the batch in progress:
// a Replica's Node calls RepliesDone (vr.ReplyBatcher) after running a
// batch of reply callbacks, and every listed writer is flushed then.
type replyBatch struct {
	mu    sync.Mutex
	dirty []*connWriter
}

// add queues frame on w, to be written when the batch ends.
func (b *replyBatch) add(w *connWriter, frame []byte) {
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return
	}
	w.queue = append(w.queue, frame...)
	listed := w.listed
	w.listed = true
	w.mu.Unlock()
	if !listed {
		b.mu.Lock()
		b.dirty = append(b.dirty, w)
		b.mu.Unlock()
	}
}

// flush writes what every listed writer holds.
func (b *replyBatch) flush() {
	b.mu.Lock()
	ws := b.dirty
	b.dirty = nil
	b.mu.Unlock()
	for _, w := range ws {
		w.mu.Lock()
		w.listed = false
		w.mu.Unlock()
		w.flush()
	}
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
