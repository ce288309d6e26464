package harness

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Load is a set of clients submitting ops one after another in the
// background until stopped.
type Load struct {
	c       *Cluster
	stop    atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	done    int
	highest int // highest op-number a client saw complete
	err     error
}

// StartLoad starts n clients, each submitting one op at a time, each op
// bounded by opTimeout.
func (c *Cluster) StartLoad(n int, opTimeout time.Duration) *Load {
	l := &Load{c: c}
	for i := 0; i < n; i++ {
		cl := c.NewClient()
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for !l.stop.Load() {
				num, err := cl.TrySubmit(cl.NextOp(0), opTimeout)
				l.mu.Lock()
				if err != nil && l.err == nil {
					l.err = err
				}
				if err == nil {
					l.done++
					l.highest = max(l.highest, num)
				}
				l.mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	return l
}

// Stop waits for every client to finish its current op and fails the test
// if any op failed. It returns how many ops completed and the highest
// op-number any client saw complete.
func (l *Load) Stop() (done, highest int) {
	l.c.t.Helper()
	l.stop.Store(true)
	l.wg.Wait()
	if l.err != nil {
		l.c.Fatalf("client load: %v", l.err)
	}
	if l.done == 0 {
		l.c.Fatalf("client load: no op completed")
	}
	return l.done, l.highest
}

// Progress reports how many ops have completed so far.
func (l *Load) Progress() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.done
}

// WaitProgress waits until at least k more ops complete.
func (l *Load) WaitProgress(k int, timeout time.Duration) {
	l.c.t.Helper()
	target := l.Progress() + k
	l.c.Eventually(timeout, fmt.Sprintf("the client load to complete %d more ops", k), func() (bool, string) {
		return l.Progress() >= target, fmt.Sprintf("%d ops completed", l.Progress())
	})
}
