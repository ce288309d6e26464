package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"vrlab/vrnet"
)

// bench runs c clients, each doing Puts and Gets (--reads percent of them
// Gets, spread evenly) back to back for d, and reports throughput and
// latency. Gets are reads (vr.Client.Read): with the cluster running with
// --lease, the primary answers them from its state.
func bench(c *cmdline, args []string) (func() error, error) {
	cf := addClusterFlags(c)
	clients := c.Int("c", 1, 1, "concurrent `clients` (each one op at a time)")
	d := c.Duration("d", 10*time.Second, "how long to run: a `duration`")
	size := c.IntRange("value-size", 16, 0, maxValueSize, "`bytes` per value, 0 to 1 MiB")
	reads := c.IntRange("reads", 25, 0, 100, "`percent` of the ops that are Gets, 0 to 100")
	shared := c.Bool("shared", "carry every client over one shared connection to each replica (vrnet.Client multiplexes them), instead of a connection per client")
	if err := c.parse(args); err != nil {
		return nil, err
	}
	cfg, err := cf.config("client")
	if err != nil {
		return nil, err
	}
	return func() error { return runBench(cfg, *clients, *d, *size, *reads, *shared) }, nil
}

// maxValueSize bounds bench's values: a PREPARE and a state transfer carry
// many of them in one frame (vrnet.DefaultMaxFrame, 64 MiB).
const maxValueSize = 1 << 20

func runBench(cfg vrnet.Config, clients int, d time.Duration, size, reads int, shared bool) error {
	value := strings.Repeat("v", size)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	var conn *vrnet.Client // with --shared: every clerk's
	start := time.Now()
	for i := 0; i < clients; i++ {
		ck, c, err := dialClerk(cfg, conn)
		if err != nil {
			return err
		}
		if shared {
			conn = c
		}
		if !shared || i == 0 {
			defer c.Close()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for n := 0; ctx.Err() == nil; n++ {
				key := fmt.Sprintf("bench-%d-%d", i, n%100)
				t := time.Now()
				var err error
				if (n+1)*reads/100 > n*reads/100 { // reads in every 100 ops, evenly spread
					_, err = ck.GetContext(ctx, key)
				} else {
					err = ck.PutContext(ctx, key, value)
				}
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						errs++
						mu.Unlock()
					}
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(lat) == 0 {
		return fmt.Errorf("no op completed in %v", d)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	conns := "a connection each"
	if shared {
		conns = "one shared connection"
	}
	fmt.Printf("clients %d (%s)  reads %d%%  ops %d  errors %d  %.0f ops/s  latency mean %v p50 %v p99 %v max %v\n",
		clients, conns, reads, len(lat), errs, float64(len(lat))/elapsed.Seconds(),
		(sum / time.Duration(len(lat))).Round(time.Microsecond), pct(0.50).Round(time.Microsecond),
		pct(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	return nil
}
