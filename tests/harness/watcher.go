package harness

import (
	"fmt"
	"sync"
	"time"

	"vrlab/vr"
)

// watcher samples every replica's state every few milliseconds, records
// what changed in the cluster's timeline (timeline.go), and checks the
// view-change safety properties:
//
//   - at most one primary per view;
//   - no primary without a quorum: a replica is primary of view v > 0 only if
//     at least f other replicas have reached view v (they must have, to send
//     it their DOVIEWCHANGE), counting the highest view of crashed lives too.
type watcher struct {
	c    *Cluster
	mu   sync.Mutex
	err  error
	prim map[int]int // view → replica seen as its primary
	top  []int       // highest view each replica ever reached (any life)

	// For the timeline: the state last seen of each replica, of which
	// life, and the last life that crashed.
	last []vr.State
	life []int
	dead []int

	done chan struct{}
	wg   sync.WaitGroup
}

const watchEvery = 5 * time.Millisecond

func newWatcher(c *Cluster) *watcher {
	return &watcher{c: c, prim: map[int]int{}, top: make([]int, c.n), done: make(chan struct{}),
		last: make([]vr.State, c.n), life: make([]int, c.n), dead: make([]int, c.n)}
}

func (w *watcher) start() {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(watchEvery)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				w.sample()
			}
		}
	}()
}

func (w *watcher) stop() {
	close(w.done)
	w.wg.Wait()
	w.sample()
}

// sample reads every live replica, records what changed and checks the
// properties.
func (w *watcher) sample() {
	for i := 0; i < w.c.n; i++ {
		if st, life, ok := w.c.stateOf(i); ok {
			w.track(i, life, st)
			w.observe(i, st)
		}
	}
}

// track adds to the timeline what changed in replica i since the last
// sample of it: its view, status or primary-ness (a new life is a change),
// and its checkpoint.
func (w *watcher) track(i, life int, st vr.State) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if life <= w.dead[i] {
		return // read before it crashed, too late to count
	}
	old, fresh := w.last[i], life != w.life[i]
	w.last[i], w.life[i] = st, life
	if fresh || st.View != old.View || st.Status != old.Status || st.IsPrimary != old.IsPrimary || st.Epoch != old.Epoch {
		w.c.tl.add(Event{Kind: EventStatus, Replica: i, State: st})
	}
	if fresh && st.CheckpointOpNumber > 0 || !fresh && st.CheckpointOpNumber != old.CheckpointOpNumber {
		w.c.tl.add(Event{Kind: EventCheckpoint, Replica: i, State: st})
	}
}

// ended notes that replica i's life crashed: its later samples, read
// before the crash, are not events.
func (w *watcher) ended(i, life int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dead[i] = life
}

// observe records replica i's state. A replica newly seen as primary of a
// view is judged only after reading the others again: they reached the view
// before it became primary, and views only grow within a life, so reads made
// after the primary's are never too old.
func (w *watcher) observe(i int, st vr.State) {
	if !w.record(i, st) {
		return
	}
	for j := 0; j < w.c.n; j++ {
		if other, ok := w.c.State(j); ok && j != i {
			w.record(j, other)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	others := 0
	for j, v := range w.top {
		if j != i && v >= st.View {
			others++
		}
	}
	if f := (w.c.n - 1) / 2; others < f {
		w.failLocked("R%d became primary of view %d, but only %d other replicas ever reached view %d; a new primary needs DOVIEWCHANGE from f=%d others",
			i, st.View, others, st.View, f)
	}
}

// record notes replica i's view and primary status, and reports whether it
// is the first sighting of a primary of a view above 0.
func (w *watcher) record(i int, st vr.State) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.top[i] = max(w.top[i], st.View)
	if !st.IsPrimary {
		return false
	}
	if p, seen := w.prim[st.View]; seen {
		if p != i {
			w.failLocked("two primaries in view %d: R%d and R%d", st.View, p, i)
		}
		return false
	}
	w.prim[st.View] = i
	w.c.tl.add(Event{Kind: EventPrimary, Replica: i, State: st})
	return st.View > 0
}

func (w *watcher) failLocked(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
}

func (w *watcher) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// PrimaryOf returns the replica seen as primary of view v, if any.
func (w *watcher) primaryOf(v int) (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.prim[v]
	return p, ok
}
