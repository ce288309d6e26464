package harness

import (
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"vrlab/vr"
)

// The annotated linearizability page: porcupine's drawing of a checked
// history, with the cluster's timeline drawn in rows under the clients.
//
//	network      the links while some are cut (one span per layout), and each heal
//	views        each view, from its primary's first sighting, naming the primary
//	R0, R1, ...  each replica's status (primary, backup, view change, state
//	             transfer, recovering, crashed) and its restarts
//	checkpoints  each checkpoint a replica was seen to hold
//	drop: NAME   while the drop rule NAME is in force
//
// Hovering over an annotation shows the event and its time.

// annotationColour is the background of each kind of annotation, the same
// on every page.
var annotationColour = map[string]string{
	"partition":      "#fbd38d", // orange: some links are cut
	"heal":           "#9ae6b4", // green: all linked again
	"crash":          "#fc8181", // red
	"restart":        "#9ae6b4", // green
	"recovering":     "#d6bcfa", // purple
	"primary":        "#90cdf4", // blue
	"backup":         "#e2e8f0", // grey
	"view change":    "#faf089", // yellow
	"state transfer": "#fbb6ce", // pink
	"checkpoint":     "#81e6d9", // teal
	"drop":           "#d6c4a8", // brown
}

// Annotations draws events on a history's clock, whose zero is start
// (porcupine's Call and Return are nanoseconds since start); spans still
// open at the end close at end.
func Annotations(events []Event, start time.Time, end int64) []porcupine.Annotation {
	var out []porcupine.Annotation
	open := map[string]int{} // row → index in out of its span still open
	stop := func(row string, at int64) {
		if i, ok := open[row]; ok {
			out[i].End = at
			delete(open, row)
		}
	}
	for _, e := range events {
		at := int64(e.At.Sub(start))
		details := fmt.Sprintf("%v at %v", e, e.At.Sub(start).Round(time.Microsecond))
		switch e.Kind {
		case EventStatus, EventPrimary, EventCheckpoint:
			details += " (seen by the harness's sample of every replica's State every " + watchEvery.String() + ")"
		}
		// add ends row's open span and starts a new annotation there.
		add := func(row, kind, description string, span bool) {
			stop(row, at)
			out = append(out, porcupine.Annotation{
				Tag: row, Start: at, End: at, Description: description, Details: details,
				BackgroundColor: annotationColour[kind],
			})
			if span {
				open[row] = len(out) - 1
			}
		}
		replica := fmt.Sprintf("R%d", e.Replica)
		switch e.Kind {
		case EventDisconnect, EventConnect, EventPartition, EventHeal, EventCutOneWay:
			switch {
			case e.Network != "":
				add("network", "partition", e.Network, true)
			case e.Kind == EventConnect:
				add("network", "heal", replica+" connected", false)
			default:
				add("network", "heal", "heal", false)
			}
		case EventCrash:
			add(replica, "crash", "crashed", true)
		case EventRestart:
			add(replica, "restart", "restart", false)
		case EventStatus:
			kind, description := statusAnnotation(e.State)
			add(replica, kind, description, true)
		case EventPrimary:
			add("views", "primary", fmt.Sprintf("view %d: R%d", e.State.View, e.Replica), true)
		case EventCheckpoint:
			add("checkpoints", "checkpoint", fmt.Sprintf("%s ckpt %d", replica, e.State.CheckpointOpNumber), false)
		case EventDrop:
			add("drop: "+e.Rule, "drop", "dropping", true)
		case EventUndrop:
			stop("drop: "+e.Rule, at)
		}
	}
	for _, i := range open {
		out[i].End = max(end, out[i].Start)
	}
	return out
}

// statusAnnotation is the kind and the (short: porcupine widens a box to
// fit its text) description of a replica's status.
func statusAnnotation(st vr.State) (kind, description string) {
	switch st.Status {
	case vr.Normal:
		if st.IsPrimary {
			return "primary", fmt.Sprintf("v%d primary", st.View)
		}
		return "backup", fmt.Sprintf("v%d backup", st.View)
	case vr.ViewChange:
		return "view change", fmt.Sprintf("view change to v%d", st.View)
	case vr.StateTransfer:
		return "state transfer", "state transfer"
	case vr.Recovering:
		return "recovering", "recovering"
	}
	return "view change", StatusLabel(st)
}

// WritePage writes porcupine's page of a checked history, with events
// drawn over it, to a new file in the system's temporary directory named
// after the test, and returns the file's path. start is the zero of the
// history's clock.
func WritePage(test string, model porcupine.Model, info porcupine.LinearizationInfo, ops []porcupine.Operation, events []Event, start time.Time) (string, error) {
	var end int64
	for _, op := range ops {
		end = max(end, op.Call)
		if op.Return != math.MaxInt64 { // an op that never returned
			end = max(end, op.Return)
		}
	}
	if len(events) > 0 {
		end = max(end, int64(events[len(events)-1].At.Sub(start)))
	}
	info.AddAnnotations(Annotations(events, start, end))
	f, err := os.CreateTemp("", strings.ReplaceAll(test, "/", "_")+"-*.html")
	if err != nil {
		return "", err
	}
	if err := porcupine.Visualize(model, info, f); err != nil {
		f.Close()
		return "", err
	}
	return f.Name(), f.Close()
}
