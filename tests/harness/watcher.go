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
//   - at most one primary per view of an epoch;
//   - no primary without a quorum: a replica is primary of view v > 0 only if
//     at least f other members of its epoch have reached view v of the epoch
//     (they must have, to send it their DOVIEWCHANGE), counting the highest
//     view of crashed lives too. (View 0 of an epoch needs no view change.)
type watcher struct {
	c    *Cluster
	mu   sync.Mutex
	err  error
	prim map[epochView]int // (epoch, view) → replica seen as its primary
	top  []epochView       // highest (epoch, view) each replica ever reached (any life)

	// For the timeline: the state last seen of each replica, of which
	// life, and the last life that crashed.
	last []vr.State
	life []int
	dead []int

	done chan struct{}
	wg   sync.WaitGroup
}

const watchEvery = 5 * time.Millisecond

// epochView orders views across epochs: by epoch, then view.
type epochView struct{ Epoch, View int }

func (a epochView) atLeast(b epochView) bool {
	return a.Epoch > b.Epoch || (a.Epoch == b.Epoch && a.View >= b.View)
}

func (a epochView) String() string {
	if a.Epoch == 0 {
		return fmt.Sprintf("view %d", a.View)
	}
	return fmt.Sprintf("view %d of epoch %d", a.View, a.Epoch)
}

func newWatcher(c *Cluster) *watcher {
	return &watcher{c: c, prim: map[epochView]int{}, top: make([]epochView, c.n), done: make(chan struct{}),
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
	ev := epochView{st.Epoch, st.View}
	others := 0
	for _, j := range st.Members {
		if j != i && w.top[j].atLeast(ev) {
			others++
		}
	}
	if f := (len(st.Members) - 1) / 2; others < f {
		w.failLocked("R%d became primary of %v, but only %d other members %v ever reached it; a new primary needs DOVIEWCHANGE from f=%d others",
			i, ev, others, st.Members, f)
	}
}

// record notes replica i's view and primary status, and reports whether it
// is the first sighting of a primary of a view above 0.
func (w *watcher) record(i int, st vr.State) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	ev := epochView{st.Epoch, st.View}
	if ev.atLeast(w.top[i]) {
		w.top[i] = ev
	}
	if !st.IsPrimary {
		return false
	}
	if p, seen := w.prim[ev]; seen {
		if p != i {
			w.failLocked("two primaries in %v: R%d and R%d", ev, p, i)
		}
		return false
	}
	w.prim[ev] = i
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

// PrimaryOf returns the replica seen as primary of view v of epoch e, if any.
func (w *watcher) primaryOf(e, v int) (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.prim[epochView{e, v}]
	return p, ok
}
