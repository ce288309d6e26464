package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"vrlab/bench/system"
)

var showHist = flag.Bool("hist", false, "print each point's latency percentiles to stderr")

// A target is one system, started, as the benchmark drives it.
type target struct {
	newClient func() (client, error) // one closed-loop client's connection
	counters  func() system.Counters
	close     func()
	addrs     []string // TCP rows: the addresses clients dial
}

// client submits commands one at a time: writes with do, reads (the
// read-heavy workloads) with read.
type client struct {
	do    func(ctx context.Context, cmd []byte) ([]byte, error)
	read  func(ctx context.Context, cmd []byte) ([]byte, error)
	close func()
}

// result is one measured point: a system, a client count, one repetition.
type result struct {
	ops         int
	elapsed     time.Duration
	p50, p99    time.Duration
	msgsPerOp   float64
	bytesPerOp  float64
	allocsPerOp float64
}

func (r result) opsPerSec() float64 { return float64(r.ops) / r.elapsed.Seconds() }

// measure runs nclients closed-loop clients against t: each submits a
// command, waits for its result, and submits the next, for warm+d; only the
// last d counts. reads percent of each client's commands are reads, spread
// evenly. Every result is checked: a write's is a version, and a read's is
// at least the version the client's own last write of that key returned (a
// stale read would show an older one).
func measure(t *target, nclients int, warm, d time.Duration, reads int) (result, error) {
	clients := make([]client, nclients)
	for i := range clients {
		c, err := t.newClient()
		if err != nil {
			return result{}, err
		}
		defer c.close()
		clients[i] = c
	}
	var (
		mu    sync.Mutex
		lat   []time.Duration
		start = make(chan struct{})
	)
	ctx, cancel := context.WithTimeout(context.Background(), warm+d+30*time.Second)
	defer cancel()
	stopAt := time.Now().Add(warm + d)
	measureFrom := time.Now().Add(warm)
	var g errgroup.Group
	for i, c := range clients {
		g.Go(func() error {
			<-start
			var mine latencies
			written := map[[16]byte]uint64{} // the version of this client's last write of each key
			for seq := 0; ; seq++ {
				now := time.Now()
				if now.After(stopAt) {
					break
				}
				if err := oneCommand(ctx, c, i, seq, reads, written); err != nil {
					return err
				}
				if now.After(measureFrom) {
					mine.add(time.Since(now))
				}
			}
			mu.Lock()
			for _, c := range mine.chunks {
				lat = append(lat, c...)
			}
			mu.Unlock()
			return nil
		})
	}
	close(start)
	// The counters and allocations cover the window after the warm-up; the
	// ops counted are those that started in it.
	time.Sleep(time.Until(measureFrom))
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0 := t.counters()
	time.Sleep(time.Until(stopAt))
	elapsed := stopAt.Sub(measureFrom) // the window the ops are counted in
	c1 := t.counters()
	if err := g.Wait(); err != nil {
		return result{}, err
	}
	// After the ops counted have finished: on a loaded machine an op that
	// started in the window may do all its work after it.
	runtime.ReadMemStats(&m1)
	if len(lat) == 0 {
		return result{}, fmt.Errorf("no command completed in %v", d)
	}
	slices.Sort(lat)
	n := float64(len(lat))
	if *showHist {
		for _, q := range []float64{0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999} {
			fmt.Fprintf(os.Stderr, "  p%g=%v", q*100, lat[int(q*n)].Round(time.Microsecond))
		}
		fmt.Fprintln(os.Stderr)
	}
	return result{
		ops:         len(lat),
		elapsed:     elapsed,
		p50:         lat[len(lat)/2],
		p99:         lat[min(len(lat)-1, int(0.99*n))],
		msgsPerOp:   float64(c1.Messages-c0.Messages) / n,
		bytesPerOp:  float64(c1.WireBytes-c0.WireBytes) / n,
		allocsPerOp: float64(m1.Mallocs-m0.Mallocs) / n,
	}, nil
}

// oneCommand runs client i's seq-th command, a read or a write, and checks
// its result.
func oneCommand(ctx context.Context, c client, i, seq, reads int, written map[[16]byte]uint64) error {
	if (seq+1)*reads/100 > seq*reads/100 {
		cmd := system.ReadCommand(i, seq)
		res, err := c.read(ctx, cmd)
		if err != nil {
			return fmt.Errorf("client %d, read %d: %w", i, seq, err)
		}
		v, err := system.CheckReadResult(res)
		if err != nil {
			return fmt.Errorf("client %d, read %d: result %x: %w", i, seq, res, err)
		}
		if w := written[system.KeyOf(cmd)]; v < w {
			return fmt.Errorf("client %d, read %d: a stale read: version %d of a key this client wrote as version %d", i, seq, v, w)
		}
		return nil
	}
	cmd := system.Command(i, seq)
	res, err := c.do(ctx, cmd)
	if err != nil {
		return fmt.Errorf("client %d, command %d: %w", i, seq, err)
	}
	if err := system.CheckResult(res); err != nil {
		return fmt.Errorf("client %d, command %d: result %x: %w", i, seq, res, err)
	}
	written[system.KeyOf(cmd)] = binary.LittleEndian.Uint64(res)
	return nil
}

// latencies collects a client's latencies in chunks of fixed size, so that
// recording one never copies the ones before it (a growing slice would, and
// the copying would cost the fastest systems the most).
type latencies struct{ chunks [][]time.Duration }

const latencyChunk = 1 << 14

func (l *latencies) add(d time.Duration) {
	n := len(l.chunks)
	if n == 0 || len(l.chunks[n-1]) == latencyChunk {
		l.chunks = append(l.chunks, make([]time.Duration, 0, latencyChunk))
		n++
	}
	l.chunks[n-1] = append(l.chunks[n-1], d)
}
