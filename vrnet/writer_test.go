package vrnet

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	b := <-accepted
	require.NotNil(t, b)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// TestConnWriterNeverBlocks: a client that reads nothing must not block
// the writer's callers (the replica answering it), and what it reads later
// is every frame, in order.
func TestConnWriterNeverBlocks(t *testing.T) {
	a, b := tcpPair(t)
	w := newConnWriter(a, 10*time.Second)
	require.NotNil(t, w.raw, "a TCP connection has a raw conn: the inline path is under test")
	var want bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ { // 20 MB: far beyond the socket buffers
			frame := bytes.Repeat([]byte{byte(i)}, 10_000)
			want.Write(frame)
			w.write(frame)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("connWriter.write blocked on a client that reads nothing")
	}
	got := make([]byte, want.Len())
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.ReadFull(b, got)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want.Bytes(), got), "the frames arrived changed or out of order")
}

// TestConnWriterGivesUp: a client that never reads is dropped after the
// write timeout, and later writes are discarded.
func TestConnWriterGivesUp(t *testing.T) {
	a, _ := tcpPair(t)
	w := newConnWriter(a, 100*time.Millisecond)
	for i := 0; i < 3000; i++ {
		w.write(make([]byte, 10_000))
	}
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.err != nil && !w.busy
	}, 10*time.Second, 10*time.Millisecond, "the writer never gave up on a client that reads nothing")
	w.write([]byte("more")) // discarded, does not block or panic
}
