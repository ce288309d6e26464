package webtest

// Browser tests of the simulator's space-time page. Each test writes the
// page of a fixed seed with sim.WriteHTML, recording the run's events and
// its text trace, loads it in headless Chromium (driven with chromedp) and
// checks what the browser drew against what the run did:
//
//   - TestArrowsMatchTrace: one arrow per delivered message of the range, one
//     lost-marker per lost message; zooming and filtering by type redraw
//     exactly the messages they should.
//   - TestClickShowsFields: clicking an arrow (a real mouse click) shows that
//     message's fields, as the run sent it, and its trace line.
//   - TestFailureMarked: a failing run's page opens at the failure's mark.
//   - TestScreenshot: a screenshot of the page is not blank. With -docs it
//     is written to ../docs/vrsim-html.png for the README.
//   - TestLinearizabilityPage (porcupine_test.go): the KV tests' annotated
//     linearizability page draws every annotation; with -docs its
//     screenshot is written to ../docs/porcupine-annotated.png.
//
// Every test checks that the page fetched nothing but itself.
//
// Without a browser the tests are skipped, saying how to install one, except
// under CI (the CI environment variable set), where they fail instead.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"vrlab/sim"
	"vrlab/vr"
)

var (
	docsFlag  = flag.Bool("docs", false, "TestScreenshot, TestLinearizabilityPage: write the screenshots to ../docs/ (for the README)")
	shotsFlag = flag.String("shots", "", "TestScreenshot, TestLinearizabilityPage: write the screenshots to this directory (default: a temporary one)")
)

// The browsers looked for, in this order, after $VRLAB_CHROME.
var browserNames = []string{"chromium", "chromium-headless-shell", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"}

const installHint = "install Chromium (Debian/Ubuntu: apt-get install -y --no-install-recommends chromium; " +
	"or chromium-headless-shell), or set VRLAB_CHROME to a Chrome or Chromium binary"

// findBrowser returns the browser to drive, or skips the test (fails it
// under CI) when there is none.
func findBrowser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VRLAB_CHROME"); p != "" {
		return p
	}
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no Chrome or Chromium found (looked for $VRLAB_CHROME and %s); CI must run the browser tests: %s", strings.Join(browserNames, ", "), installHint)
	}
	t.Skipf("no Chrome or Chromium found, so the browser tests are skipped: %s", installHint)
	return ""
}

// run is one simulated run with everything the tests compare the page with.
type run struct {
	res    sim.Result
	events []sim.Event
	trace  []string
	msgs   map[int]*sim.Event // EvSend and EvDuplicate events, by message ID
	from   int                // the range the page shows
	to     int
	file   string
}

// writePage runs cfg, writing its page for ticks from..to to a file.
func writePage(t *testing.T, cfg sim.Config, from, to int) *run {
	t.Helper()
	r := &run{msgs: map[int]*sim.Event{}}
	opts := sim.Options{
		Trace: func(l string) { r.trace = append(r.trace, l) },
		Events: func(e sim.Event) {
			if e.Msg != nil {
				m := *e.Msg // the run may reuse the message's memory later
				e.Msg = &m
			}
			r.events = append(r.events, e)
		},
	}
	var b bytes.Buffer
	res, err := sim.WriteHTML(&b, cfg, opts, sim.HTMLOptions{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.events {
		if e := &r.events[i]; e.Kind == sim.EvSend || e.Kind == sim.EvDuplicate {
			r.msgs[e.ID] = e
		}
	}
	r.res, r.from, r.to = res, from, to
	if res.Failure != nil && from == 0 && to == 0 {
		r.from, r.to = max(1, res.Failure.Tick-sim.DefaultHTMLWindow+1), res.Failure.Tick
	}
	r.file = filepath.Join(t.TempDir(), fmt.Sprintf("seed%d.html", cfg.Seed))
	if err := os.WriteFile(r.file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: page of ticks %d..%d, %d KB", cfg.Seed, r.from, r.to, b.Len()/1024)
	return r
}

// count counts the events of kind in ticks from..to that keep says to keep.
func (r *run) count(kind sim.EventKind, from, to int, keep func(e *sim.Event) bool) int {
	n := 0
	for i := range r.events {
		e := &r.events[i]
		if e.Kind == kind && e.Tick >= from && e.Tick <= to && (keep == nil || keep(e)) {
			n++
		}
	}
	return n
}

// browse starts a headless browser on the simulator's page and returns its
// context. It fails the test, when the test ends, if the page asked for
// anything but itself.
func browse(t *testing.T, file string, width, height int) context.Context {
	t.Helper()
	return browseUntil(t, file, width, height, "#svg g")
}

// browseUntil is browse for any page: it waits until the page has an
// element that ready (a CSS selector) matches.
func browseUntil(t *testing.T, file string, width, height int, ready string) context.Context {
	t.Helper()
	exe := findBrowser(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	var mu sync.Mutex
	var fetched []string
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && !strings.HasPrefix(e.Request.URL, "file://") && !strings.HasPrefix(e.Request.URL, "data:") {
			mu.Lock()
			fetched = append(fetched, e.Request.URL)
			mu.Unlock()
		}
	})
	if err != nil {
		cancelT()
		cancelC()
		cancelA()
		t.Fatalf("starting %s: %v", exe, err)
	}
	t.Cleanup(func() {
		cancelT()
		cancelC()
		cancelA()
		mu.Lock()
		defer mu.Unlock()
		if len(fetched) > 0 {
			t.Errorf("the page fetched %v; it must be self-contained", fetched)
		}
	})
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enabling the network domain: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(int64(width), int64(height)),
		chromedp.Navigate("file://"+file),
		chromedp.WaitReady(chromedp.CSS(ready)),
	); err != nil {
		t.Fatalf("loading the page in %s: %v", exe, err)
	}
	return ctx
}

// eval evaluates js in the page and returns its value.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// testConfig is the run the tests draw: seed 42 has five replicas, three
// clients, crashes, a partition, lost messages and a dozen view changes.
func testConfig() sim.Config { return sim.Draw(42) }

func TestArrowsMatchTrace(t *testing.T) {
	r := writePage(t, testConfig(), 1, 400)
	ctx := browse(t, r.file, 1400, 1000)
	arrows := func() int { return eval[int](t, ctx, `document.querySelectorAll("#svg g.msg.d").length`) }
	check := func(what string, from, to int, keep func(*sim.Event) bool) {
		t.Helper()
		want := r.count(sim.EvDeliver, from, to, keep)
		if got := arrows(); got != want || want == 0 {
			t.Errorf("%s: %d arrows drawn; the run delivered %d messages in ticks %d..%d", what, got, want, from, to)
		}
	}
	check("the whole page", r.from, r.to, nil)

	// The text trace agrees: it has a deliver line for every message
	// delivered to a replica.
	toReplica := func(e *sim.Event) bool { return e.To < r.res.Config.Replicas }
	lines := 0
	for _, l := range r.trace {
		f := strings.Fields(l)
		if tick, _ := strconv.Atoi(f[0]); len(f) > 1 && f[1] == "deliver" && tick >= r.from && tick <= r.to {
			lines++
		}
	}
	if want := r.count(sim.EvDeliver, r.from, r.to, toReplica); lines != want {
		t.Errorf("the trace has %d deliver lines in ticks %d..%d, the events %d deliveries to replicas", lines, r.from, r.to, want)
	}

	lost := eval[int](t, ctx, `document.querySelectorAll("#svg g.msg.lost").length`)
	if want := r.count(sim.EvDrop, r.from, r.to, nil); lost != want || want == 0 {
		t.Errorf("%d lost messages marked; the run lost %d in ticks %d..%d", lost, want, r.from, r.to)
	}

	// Zoom to a range.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#from"), "150"),
		chromedp.SetValue(chromedp.CSS("#to"), "260"),
		chromedp.Click(chromedp.CSS("#zoom")),
	); err != nil {
		t.Fatal(err)
	}
	check("zoomed to ticks 150..260", 150, 260, nil)

	// Filter out the heartbeats and the client requests.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#types input[data-type="COMMIT"]`)),
		chromedp.Click(chromedp.CSS(`#types input[data-type="REQUEST"]`)),
	); err != nil {
		t.Fatal(err)
	}
	check("without COMMIT and REQUEST", 150, 260, func(e *sim.Event) bool {
		ty := r.msgs[e.ID].Msg.Type
		return ty != vr.MsgCommit && ty != vr.MsgRequest
	})
	if n := eval[int](t, ctx, `document.querySelectorAll('#svg g.msg[data-type="COMMIT"], #svg g.msg[data-type="REQUEST"]').length`); n != 0 {
		t.Errorf("%d COMMIT or REQUEST messages still drawn after unticking them", n)
	}
}

// clickable finds where to click message id so that the click lands on it
// (and not on a message drawn over it), scrolling it into view; ok is false
// if no such point is found.
func clickable(t *testing.T, ctx context.Context, id int) (x, y float64, ok bool) {
	type point struct {
		X, Y float64
		OK   bool
	}
	js := fmt.Sprintf(`(() => {
		const g = document.querySelector('#svg g.msg[data-id="%d"]');
		if (!g) return {X: 0, Y: 0, OK: false};
		g.querySelector(".arrow").scrollIntoView({block: "center", inline: "center"});
		const l = g.querySelector(".hit"), a = [+l.getAttribute("x1"), +l.getAttribute("y1")], b = [+l.getAttribute("x2"), +l.getAttribute("y2")];
		const box = document.getElementById("svg").getBoundingClientRect();
		for (const f of [0.5, 0.4, 0.6, 0.3, 0.7, 0.25, 0.75]) {
			const x = box.left + a[0] + (b[0] - a[0]) * f, y = box.top + a[1] + (b[1] - a[1]) * f;
			const hit = document.elementFromPoint(x, y);
			const hg = hit && hit.closest("g.msg");
			if (hg && hg.dataset.id === "%d") return {X: x, Y: y, OK: true};
		}
		return {X: 0, Y: 0, OK: false};
	})()`, id, id)
	p := eval[point](t, ctx, js)
	return p.X, p.Y, p.OK
}

func TestClickShowsFields(t *testing.T) {
	r := writePage(t, testConfig(), 1, 400)
	ctx := browse(t, r.file, 1400, 1000)
	fate := map[int]*sim.Event{} // message ID → its delivery or loss
	for i := range r.events {
		if e := &r.events[i]; e.Kind == sim.EvDeliver || e.Kind == sim.EvDrop {
			fate[e.ID] = e
		}
	}
	traced := map[string]bool{}
	for _, l := range r.trace {
		traced[strings.Join(strings.Fields(l), " ")] = true
	}
	// One message of each kind worth checking: a PREPARE carrying ops, each
	// view-change message, a client's REQUEST and its REPLY, a message lost
	// when it was sent.
	want := []struct {
		name string
		ok   func(m *vr.Message, end *sim.Event) bool
	}{
		{"PREPARE with entries", func(m *vr.Message, end *sim.Event) bool {
			return m.Type == vr.MsgPrepare && len(m.Entries) > 0 && end.Kind == sim.EvDeliver
		}},
		{"STARTVIEWCHANGE", func(m *vr.Message, end *sim.Event) bool {
			return m.Type == vr.MsgStartViewChange && end.Kind == sim.EvDeliver
		}},
		{"DOVIEWCHANGE", func(m *vr.Message, end *sim.Event) bool {
			return m.Type == vr.MsgDoViewChange && end.Kind == sim.EvDeliver
		}},
		{"STARTVIEW", func(m *vr.Message, end *sim.Event) bool {
			return m.Type == vr.MsgStartView && end.Kind == sim.EvDeliver
		}},
		{"REQUEST", func(m *vr.Message, end *sim.Event) bool { return m.Type == vr.MsgRequest && end.Kind == sim.EvDeliver }},
		{"REPLY", func(m *vr.Message, end *sim.Event) bool { return m.Type == vr.MsgReply && end.Kind == sim.EvDeliver }},
		{"lost when sent", func(m *vr.Message, end *sim.Event) bool {
			return end.Kind == sim.EvDrop && end.Why == sim.LostLoss && m.Type == vr.MsgPrepareOK
		}},
	}
	for _, w := range want {
		id := 0
		var x, y float64
		for cand := 1; cand <= len(r.msgs); cand++ {
			send, end := r.msgs[cand], fate[cand]
			if send == nil || end == nil || end.Tick < r.from || end.Tick > r.to || !w.ok(send.Msg, end) {
				continue
			}
			var ok bool
			if x, y, ok = clickable(t, ctx, cand); ok {
				id = cand
				break
			}
		}
		if id == 0 {
			t.Errorf("%s: no such message on the page that a click can reach", w.name)
			continue
		}
		if err := chromedp.Do(ctx, chromedp.MouseClickXY(x, y), chromedp.WaitVisible(chromedp.CSS("#fields"))); err != nil {
			t.Fatal(err)
		}
		send, end := r.msgs[id], fate[id]
		m := send.Msg
		title := eval[string](t, ctx, `document.getElementById("msgtitle").textContent`)
		if !strings.HasPrefix(title, fmt.Sprintf("message #%d: %v ", id, m.Type)) {
			t.Errorf("%s: clicked message %d, the panel shows %q", w.name, id, title)
			continue
		}
		got := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll("#fields tr")].map(r => [r.dataset.field, r.querySelector("td").textContent]))`)
		expect := map[string]string{
			"Type": m.Type.String(), "From": strconv.Itoa(m.From), "To": strconv.Itoa(m.To), "Epoch": strconv.Itoa(m.Epoch),
			"View": strconv.Itoa(m.View), "OpNumber": strconv.Itoa(m.OpNumber), "CommitNumber": strconv.Itoa(m.CommitNumber),
			"LastNormalView": strconv.Itoa(m.LastNormalView), "LogStart": strconv.Itoa(m.LogStart),
			"Nonce": strconv.FormatUint(m.Nonce, 10), "Primary": strconv.Itoa(m.Primary), "RequestNum": strconv.Itoa(m.RequestNum),
		}
		for k, v := range expect {
			if g := got[k]; g != v && !(k == "To" && m.To == vr.ToClient && strings.HasPrefix(g, "-1 ")) {
				t.Errorf("%s (message %d): field %s shows %q; the run sent %q", w.name, id, k, g, v)
			}
		}
		prefixes := map[string]string{"ClientID": strconv.FormatInt(m.ClientID, 10), "Entries": "none", "Checkpoint": "none"}
		if len(m.Entries) > 0 {
			prefixes["Entries"] = fmt.Sprintf("%d: ops %d..%d:", len(m.Entries), m.LogStart+1, m.LogStart+len(m.Entries))
		}
		if m.Checkpoint != nil {
			prefixes["Checkpoint"] = fmt.Sprintf("op %d,", m.Checkpoint.OpNumber)
		}
		for k, v := range prefixes {
			if !strings.HasPrefix(got[k], v) {
				t.Errorf("%s (message %d): field %s shows %q; the run sent %q…", w.name, id, k, got[k], v)
			}
		}
		if n := reflect.TypeOf(vr.Message{}).NumField(); len(got) != n {
			t.Errorf("%s: the panel shows %d fields, want all %d of vr.Message: %v", w.name, len(got), n, got)
		}
		// The panel's trace line is the run's, at the tick it names.
		fateText := eval[string](t, ctx, `document.getElementById("msgfate").textContent`)
		if !strings.HasPrefix(fateText, fmt.Sprintf("sent at tick %d, ", send.Tick)) {
			t.Errorf("%s (message %d): panel says %q; it was sent at tick %d", w.name, id, fateText, send.Tick)
		}
		line := eval[string](t, ctx, `document.getElementById("msgtrace").textContent`)
		if send.To < r.res.Config.Replicas || end.Kind == sim.EvDrop { // the trace has no line for deliveries to clients
			if full := strconv.Itoa(end.Tick) + " " + strings.Join(strings.Fields(line), " "); !traced[full] {
				t.Errorf("%s (message %d): the panel's trace line %q is not in the run's trace at tick %d", w.name, id, line, end.Tick)
			}
		}
		t.Logf("%s: message %d: %s", w.name, id, line)
	}
}

// TestFailureMarked: a failing run (part A's seeds, without clients, with a
// liveness bound too short to converge in: a real failure of the
// simulator's checks, with correct replicas) opens at its failure's mark,
// and clicking it shows the failure.
func TestFailureMarked(t *testing.T) {
	cfg := sim.Draw(3)
	partA, err := sim.ForPart("A") // no clients: lanes for replicas only
	if err != nil {
		t.Fatal(err)
	}
	partA(&cfg)
	cfg.SafetyTicks, cfg.LivenessTicks = 600, 3
	r := writePage(t, cfg, 0, 0)
	if r.res.Failure == nil {
		t.Fatal("the run was expected to fail its liveness check")
	}
	ctx := browse(t, r.file, 1400, 900)
	if !eval[bool](t, ctx, `(() => { const r = document.getElementById("failmark").getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()`) {
		t.Errorf("the page does not open at the failure's mark")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#failmark text"))); err != nil {
		t.Fatal(err)
	}
	panel := eval[string](t, ctx, `document.getElementById("panel").textContent`)
	if want := fmt.Sprintf("failure at tick %d", r.res.Failure.Tick); !strings.Contains(panel, want) || !strings.Contains(panel, r.res.Failure.Check) {
		t.Errorf("clicking the failure shows %q; want %q and the check %q", panel, want, r.res.Failure.Check)
	}
	if outcome := eval[string](t, ctx, `document.getElementById("outcome").textContent`); !strings.Contains(outcome, "FAILED at tick "+strconv.Itoa(r.res.Failure.Tick)) {
		t.Errorf("the header says %q", outcome)
	}
}

// TestScreenshot takes a screenshot of a stretch of seed 42 (a crash, a
// partition, view changes, client requests) and checks it is not blank: most
// of it is not background, and it has many colours.
func TestScreenshot(t *testing.T) {
	r := writePage(t, testConfig(), 1, 400)
	ctx := browse(t, r.file, 1200, 800)
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#from"), "30"),
		chromedp.SetValue(chromedp.CSS("#to"), "140"),
		chromedp.Click(chromedp.CSS("#zoom")),
		chromedp.Click(chromedp.CSS(`#types input[data-type="REQUEST"]`)),
		chromedp.Click(chromedp.CSS(`#types input[data-type="NOTPRIMARY"]`)),
	); err != nil {
		t.Fatal(err)
	}
	// Click a message, so that the panel shows one.
	for id := 1; id <= len(r.msgs); id++ {
		if m := r.msgs[id]; m.Msg.Type == vr.MsgDoViewChange && m.Tick >= 40 {
			if x, y, ok := clickable(t, ctx, id); ok {
				if err := chromedp.Do(ctx, chromedp.MouseClickXY(x, y)); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS("header"))); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	checkShot(t, shot, "vrsim-html.png")
}

// checkShot checks that the screenshot shot is not blank: most of it is not
// background, and it has many colours. It writes it, made small, to name in
// ../docs/ with -docs, in the -shots directory, or in a temporary one.
func checkShot(t *testing.T, shot []byte, name string) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	ink, colours := inked(img)
	b := img.Bounds()
	t.Logf("screenshot %dx%d, %d KB: %.1f%% not background, %d colours", b.Dx(), b.Dy(), len(shot)/1024, 100*ink, colours)
	if ink < 0.05 || colours < 50 {
		t.Errorf("the screenshot looks blank: %.1f%% not background, %d colours", 100*ink, colours)
	}
	dir := *shotsFlag
	switch {
	case *docsFlag:
		dir = filepath.Join("..", "docs")
	case dir == "":
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name = filepath.Join(dir, name)
	if err := os.WriteFile(name, small(t, img, shot), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", name)
}

// inked is the fraction of img's pixels that differ from its most common
// colour (the background), and how many colours it has.
func inked(img image.Image) (float64, int) {
	count := map[[3]uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			count[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
		}
	}
	bg := 0
	for _, n := range count {
		bg = max(bg, n)
	}
	total := b.Dx() * b.Dy()
	return float64(total-bg) / float64(total), len(count)
}

// small returns the screenshot as a PNG of at most about 150 KB, for the
// repository: the browser's own PNG if it is small enough, else the image
// reduced to its 256 commonest colours.
func small(t *testing.T, img image.Image, shot []byte) []byte {
	const limit = 150 << 10
	if len(shot) <= limit {
		return shot
	}
	// The palette: the image's 256 commonest colours (its fills and lines;
	// the rarer ones are antialiasing, mapped to the nearest).
	count := map[color.RGBA]int{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			count[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colours := make([]color.RGBA, 0, len(count))
	for c := range count {
		colours = append(colours, c)
	}
	sort.Slice(colours, func(i, j int) bool {
		a, b := colours[i], colours[j]
		if count[a] != count[b] {
			return count[a] > count[b]
		}
		return rgb(a) < rgb(b)
	})
	var plt color.Palette
	for _, c := range colours[:min(256, len(colours))] {
		plt = append(plt, c)
	}
	pal := image.NewPaletted(bounds, plt)
	draw.Draw(pal, pal.Rect, img, bounds.Min, draw.Src)
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, pal); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot reduced to 256 colours: %d KB", b.Len()/1024)
	return b.Bytes()
}

func rgb(c color.RGBA) uint32 { return uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B) }

var (
	pageFlag    = flag.String("page", "", "TestScreenshotOf: the page (an HTML file that vrsim -html wrote) to take a screenshot of")
	pageOutFlag = flag.String("page-out", "page.png", "TestScreenshotOf: the PNG file to write")
)

// TestScreenshotOf takes a screenshot of any page vrsim wrote, as it opens
// (at its failure, if it has one), for a report or the README:
//
//	go test ./webtest -run TestScreenshotOf -page /tmp/seed1.html -page-out /tmp/seed1.png
func TestScreenshotOf(t *testing.T) {
	if *pageFlag == "" {
		t.Skip("no -page given")
	}
	file, err := filepath.Abs(*pageFlag)
	if err != nil {
		t.Fatal(err)
	}
	ctx := browse(t, file, 1200, 800)
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*pageOutFlag, small(t, img, shot), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", *pageOutFlag)
}
