package harness

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"vrlab/vr"
)

// The timeline is what happened to the cluster, in order: the faults the
// harness caused, recorded where it causes them, and what its watcher saw
// the replicas do (views, primaries, statuses, checkpoints), recorded when
// a sample first showed it. The KV tests draw it over their
// linearizability page.
//
// Times are time.Now() readings, on the monotonic clock every other
// time.Now() of the test uses. A watcher event is seen by a sample taken
// every 5 ms (watchEvery): it happened at most that much earlier, and a
// state held for less than that may not be seen at all.

// EventKind says what an Event is.
type EventKind string

const (
	// Caused by the harness.
	EventDisconnect EventKind = "disconnect"  // Disconnect(Replica)
	EventConnect    EventKind = "connect"     // Connect(Replica)
	EventPartition  EventKind = "partition"   // Partition(groups...)
	EventHeal       EventKind = "heal"        // Heal()
	EventCutOneWay  EventKind = "cut-one-way" // CutOneWay(Replica, to)
	EventCrash      EventKind = "crash"       // Crash(Replica)
	EventRestart    EventKind = "restart"     // Restart(Replica): it runs recovery
	EventDrop       EventKind = "drop"        // Drop(Rule, ...)
	EventUndrop     EventKind = "undrop"      // Undrop(Rule)

	// Seen by the watcher in the replicas' State.
	EventStatus     EventKind = "status"     // Replica's view, status or primary-ness changed (or a new life was first seen)
	EventPrimary    EventKind = "primary"    // Replica is the first seen primary of State.View
	EventCheckpoint EventKind = "checkpoint" // Replica's CheckpointOpNumber changed
)

// Event is one entry of the timeline.
type Event struct {
	At      time.Time
	Kind    EventKind
	Replica int      // the replica it concerns; -1 for partition and heal
	State   vr.State // status, primary, checkpoint: the State the watcher read
	Rule    string   // drop, undrop: the rule's name
	Network string   // network kinds: who reaches whom after it; "" when all are linked
}

// String is the event on one line, e.g. "R2 disconnected (links: R0 R1 | cut off R2)".
func (e Event) String() string {
	var s string
	switch e.Kind {
	case EventDisconnect:
		s = fmt.Sprintf("R%d disconnected", e.Replica)
	case EventConnect:
		s = fmt.Sprintf("R%d connected", e.Replica)
	case EventPartition:
		s = "partition"
	case EventHeal:
		s = "healed"
	case EventCutOneWay:
		s = fmt.Sprintf("R%d cut one way", e.Replica)
	case EventCrash:
		s = fmt.Sprintf("R%d crashed", e.Replica)
	case EventRestart:
		s = fmt.Sprintf("R%d restarted (recovering)", e.Replica)
	case EventDrop:
		s = fmt.Sprintf("drop rule %q installed", e.Rule)
	case EventUndrop:
		s = fmt.Sprintf("drop rule %q removed", e.Rule)
	case EventStatus:
		s = fmt.Sprintf("R%d %s", e.Replica, StatusLabel(e.State))
	case EventPrimary:
		s = fmt.Sprintf("R%d primary of view %d", e.Replica, e.State.View)
	case EventCheckpoint:
		s = fmt.Sprintf("R%d checkpoint at op %d", e.Replica, e.State.CheckpointOpNumber)
	default:
		s = string(e.Kind)
	}
	switch e.Kind {
	case EventDisconnect, EventConnect, EventPartition, EventHeal, EventCutOneWay:
		if e.Network == "" {
			s += " (all linked)"
		} else {
			s += " (links: " + e.Network + ")"
		}
	}
	return s
}

// StatusLabel names a replica's status in its view, e.g. "view 3 primary",
// "view change to view 4", "state transfer (from view 2)": a replica in
// state transfer stays in its old view until the new view's state arrives.
func StatusLabel(st vr.State) string {
	switch {
	case st.Status == vr.Normal && st.IsPrimary:
		return fmt.Sprintf("view %d primary", st.View)
	case st.Status == vr.Normal:
		return fmt.Sprintf("view %d backup", st.View)
	case st.Status == vr.ViewChange:
		return fmt.Sprintf("view change to view %d", st.View)
	case st.Status == vr.StateTransfer:
		return fmt.Sprintf("state transfer (from view %d)", st.View)
	case st.Status == vr.Transitioning && st.Retired:
		return fmt.Sprintf("leaving, serving epoch %d", st.Epoch)
	case st.Status == vr.Transitioning:
		return fmt.Sprintf("joining epoch %d", st.Epoch)
	case st.Status == vr.Standby && st.Retired:
		return fmt.Sprintf("retired (epoch %d)", st.Epoch)
	}
	return fmt.Sprintf("%v (view %d)", st.Status, st.View)
}

// timeline is the cluster's list of events.
type timeline struct {
	mu     sync.Mutex
	events []Event
}

// add stamps e with the time now and appends it: events are in time order.
func (tl *timeline) add(e Event) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	e.At = time.Now()
	tl.events = append(tl.events, e)
}

// Events returns the cluster's timeline so far, in time order.
func (c *Cluster) Events() []Event {
	c.tl.mu.Lock()
	defer c.tl.mu.Unlock()
	return append([]Event(nil), c.tl.events...)
}

// networkLocked describes the links as Partition and CutOneWay set them:
// the groups, the first (which clients reach) first, who is cut off, and
// the links lost one way; "" when every replica is in group 0 and no link
// is cut.
func (c *Cluster) networkLocked() string {
	var groups [][]string
	var cut []string
	for i, g := range c.group {
		name := fmt.Sprintf("R%d", i)
		if g < 0 {
			cut = append(cut, name)
			continue
		}
		for len(groups) <= g {
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], name)
	}
	var oneWay []string
	for i, row := range c.oneWay {
		for j, lost := range row {
			if lost {
				oneWay = append(oneWay, fmt.Sprintf("R%d→R%d", i, j))
			}
		}
	}
	if len(cut) == 0 && len(groups) == 1 && len(oneWay) == 0 {
		return ""
	}
	var parts []string
	for _, g := range groups {
		if len(g) > 0 {
			parts = append(parts, strings.Join(g, " "))
		}
	}
	if len(cut) > 0 {
		parts = append(parts, "cut off "+strings.Join(cut, " "))
	}
	if len(oneWay) > 0 {
		parts = append(parts, "lost one way "+strings.Join(oneWay, " "))
	}
	return strings.Join(parts, " | ")
}
