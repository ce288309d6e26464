package webtest

// The browser test of the KV tests' linearizability page: porcupine's
// drawing of a history, with the cluster's timeline drawn under the clients
// as annotations by tests/harness (Annotations, WritePage).

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"vrlab/kvvr"
	"vrlab/kvvr/kvmodel"
	"vrlab/tests/harness"
	"vrlab/vr"
)

// staleRead is a history that is not linearizable, and a timeline that
// explains it: a partition cuts off R0, primary of view 0; R1 and R2 move
// to view 1, where client 0's put("x", "2") commits and R1 checkpoints;
// then client 1's get("x") is answered by R0, still cut off, with the old
// value. R0 crashes, the partition heals, and R0 restarts, recovers and
// rejoins as a backup. start is the zero of the history's clock.
func staleRead() (ops []porcupine.Operation, events []harness.Event, start time.Time) {
	start = time.Now()
	ms := func(n int) int64 { return int64(time.Duration(n) * time.Millisecond) }
	at := func(n int) time.Time { return start.Add(time.Duration(ms(n))) }
	put := func(v string) kvvr.Op { return kvvr.Op{Kind: kvvr.OpPut, Key: "x", Value: v} }
	get := kvvr.Op{Kind: kvvr.OpGet, Key: "x"}
	ops = []porcupine.Operation{
		{ClientId: 0, Input: put("1"), Call: ms(10), Return: ms(20)},
		{ClientId: 0, Input: put("2"), Call: ms(30), Return: ms(55)},
		{ClientId: 1, Input: get, Output: "1", Call: ms(60), Return: ms(70)}, // stale: put("x", "2") returned before it
	}
	primary := func(view int) vr.State { return vr.State{View: view, Status: vr.Normal, IsPrimary: true} }
	backup := func(view int) vr.State { return vr.State{View: view, Status: vr.Normal} }
	events = []harness.Event{
		{At: at(1), Kind: harness.EventStatus, Replica: 0, State: primary(0)},
		{At: at(1), Kind: harness.EventPrimary, Replica: 0, State: primary(0)},
		{At: at(1), Kind: harness.EventStatus, Replica: 1, State: backup(0)},
		{At: at(1), Kind: harness.EventStatus, Replica: 2, State: backup(0)},
		{At: at(35), Kind: harness.EventPartition, Replica: -1, Network: "R1 R2 | cut off R0"},
		{At: at(38), Kind: harness.EventStatus, Replica: 1, State: vr.State{View: 1, Status: vr.ViewChange}},
		{At: at(38), Kind: harness.EventStatus, Replica: 2, State: vr.State{View: 1, Status: vr.ViewChange}},
		{At: at(45), Kind: harness.EventStatus, Replica: 1, State: primary(1)},
		{At: at(45), Kind: harness.EventPrimary, Replica: 1, State: primary(1)},
		{At: at(45), Kind: harness.EventStatus, Replica: 2, State: backup(1)},
		{At: at(50), Kind: harness.EventCheckpoint, Replica: 1, State: vr.State{View: 1, CheckpointOpNumber: 2}},
		{At: at(72), Kind: harness.EventCrash, Replica: 0},
		{At: at(75), Kind: harness.EventHeal, Replica: -1},
		{At: at(75), Kind: harness.EventRestart, Replica: 0},
		{At: at(76), Kind: harness.EventStatus, Replica: 0, State: vr.State{View: 0, Status: vr.Recovering}},
		{At: at(82), Kind: harness.EventStatus, Replica: 0, State: backup(1)},
	}
	return ops, events, start
}

// TestLinearizabilityPage writes the page the KV tests write when one
// fails, for a stale read under a partition, loads it, and checks that
// porcupine drew every annotation, in its row, the ops and an invalid
// linearization point, and that hovering shows an annotation's details;
// its screenshot must not be blank (with -docs it is written to
// ../docs/porcupine-annotated.png).
func TestLinearizabilityPage(t *testing.T) {
	ops, events, start := staleRead()
	res, info := porcupine.CheckOperationsVerbose(kvmodel.Model, ops, time.Second)
	if res != porcupine.Illegal {
		t.Fatalf("the history checks %v; it must not be linearizable", res)
	}
	file, err := harness.WritePage(t.Name(), kvmodel.Model, info, ops, events, start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(file) })
	// The annotations WritePage added (their number and text do not depend
	// on where the history ends).
	annotations := harness.Annotations(events, start, 0)
	var want []string
	rows := map[string]bool{}
	for _, a := range annotations {
		want = append(want, a.Tag+": "+a.Description)
		rows[a.Tag] = true
	}
	sort.Strings(want)

	ctx := browseUntil(t, file, 1200, 800, "#canvas svg rect.client-annotation-rect")
	got := eval[[]string](t, ctx, `[...document.querySelectorAll("#canvas svg rect.client-annotation-rect")].map(r => {
		// The row's label is the bg text at the rect's height.
		const y = +r.getAttribute("y") + +r.getAttribute("height") / 2;
		const label = [...document.querySelectorAll("#canvas svg > g:first-child > text")].find(l => Math.abs(+l.getAttribute("y") - y) < 1);
		return (label ? label.textContent : "?") + ": " + r.parentNode.querySelector("text.history-text").textContent;
	})`)
	sort.Strings(got)
	if len(got) != len(annotations) {
		t.Errorf("the page draws %d annotations; WritePage was given %d", len(got), len(annotations))
	}
	if !slices.Equal(got, want) {
		t.Errorf("the annotations drawn (row: text):\n%q\nwant:\n%q", got, want)
	}
	// The clients' rows (0 and 1) and the rows of the timeline.
	labels := eval[[]string](t, ctx, `[...document.querySelectorAll("#canvas svg > g:first-child > text")].map(l => l.textContent)`)
	if len(labels) != 2+len(rows) {
		t.Errorf("the page has rows %q; want clients 0 and 1 and %d rows of annotations", labels, len(rows))
	}
	if ops := eval[int](t, ctx, `document.querySelectorAll("#canvas svg rect.history-rect").length`); ops != 3 {
		t.Errorf("the page draws %d ops; the history has 3", ops)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#canvas svg line.linearization-invalid").length`); n == 0 {
		t.Errorf("the page draws no invalid linearization point")
	}

	// The screenshot: the whole drawing, at its size.
	type size struct{ W, H float64 }
	sz := eval[size](t, ctx, `(() => { const r = document.querySelector("#canvas svg").getBoundingClientRect(); return {W: r.right + 10, H: r.bottom + 10}; })()`)
	t.Logf("the drawing is %.0fx%.0f", sz.W, sz.H)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(min(sz.W, 2000)), int64(min(sz.H, 1500)))); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	checkShot(t, shot, "porcupine-annotated.png")

	// Hovering over an annotation (a real mouse move) shows its details:
	// the event and its time. Porcupine numbers the annotations as a
	// partition after the history's (one: the history has one key).
	crash := -1
	for i, a := range annotations {
		if a.Description == "crashed" {
			crash = i
		}
	}
	if crash < 0 {
		t.Fatal("no crash among the annotations")
	}
	type point struct{ X, Y float64 }
	p := eval[point](t, ctx, fmt.Sprintf(`(() => {
		const r = document.querySelector('#canvas svg rect.target-rect[data-partition="1"][data-index="%d"]').getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2};
	})()`, crash))
	if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, p.X, p.Y)); err != nil {
		t.Fatal(err)
	}
	if tip := eval[string](t, ctx, `document.querySelector("#canvas .tooltip").textContent`); tip != annotations[crash].Details {
		t.Errorf("hovering over the crash shows %q; want %q", tip, annotations[crash].Details)
	}
}
