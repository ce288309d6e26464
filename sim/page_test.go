package sim

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// The space-time page without a browser (the browser tests are in webtest/):
// its model counts what the events say, it fetches nothing, and a failing
// run's page marks the failure.

func TestPageModel(t *testing.T) {
	cfg := Draw(42)
	var evs []Event
	pb := newPageBuilder(cfg)
	res := Run(cfg, Options{Events: func(e Event) { pb.add(e); evs = append(evs, e) }})
	for _, ho := range []HTMLOptions{{}, {From: 300, To: 700}, {MaxMessages: 500}, {From: 5, To: 6}} {
		p := pb.page(res, "", ho)
		delivered := 0
		for _, e := range evs {
			if e.Kind == EvDeliver && e.Tick >= p.From && e.Tick <= p.To {
				delivered++
			}
		}
		if p.Counts.Delivered != delivered {
			t.Errorf("%+v: page counts %d delivered in ticks %d..%d, the events %d", ho, p.Counts.Delivered, p.From, p.To, delivered)
		}
		if ho.MaxMessages > 0 && len(p.Msgs) > ho.MaxMessages {
			t.Errorf("%+v: %d messages on the page", ho, len(p.Msgs))
		}
		if ho.From > 0 && (p.From != ho.From || p.To != ho.To) {
			t.Errorf("%+v: range %d..%d", ho, p.From, p.To)
		}
		js, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(js, []byte(":null")); n > 1 || n == 1 && !bytes.Contains(js, []byte(`"fail":null`)) {
			t.Errorf("%+v: the page's data has null where the script wants a list: %.300s", ho, js)
		}
		for _, m := range p.Msgs {
			if m.E < m.S {
				t.Errorf("message %d (%s) ends at %.3f before it starts at %.3f", m.ID, m.Line, m.E, m.S)
			}
			if len(m.V) != len(msgFields) {
				t.Fatalf("message %d has %d fields, want %d", m.ID, len(m.V), len(msgFields))
			}
		}
	}
}

// TestPageFetchesNothing: the page is one file; nothing in it loads another.
func TestPageFetchesNothing(t *testing.T) {
	var b bytes.Buffer
	if _, err := WriteHTML(&b, Draw(7), Options{}, HTMLOptions{To: 300}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<link", "@import", " src=", "fetch(", "XMLHttpRequest", "https://"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if m := regexp.MustCompile(`href="[^#]`).FindString(page); m != "" {
		t.Errorf("the page links out: %s", m)
	}
	if !strings.Contains(page, "default-src 'none'") {
		t.Errorf("the page lost its Content-Security-Policy")
	}
}

// TestPageMarksFailure: a run that fails (a liveness bound too short to
// converge in) has its failure on the page, at its tick, inside the range.
func TestPageMarksFailure(t *testing.T) {
	cfg := Draw(3)
	cfg.SafetyTicks, cfg.LivenessTicks = 400, 2
	pb := newPageBuilder(cfg)
	res := Run(cfg, Options{Events: pb.add})
	if res.Failure == nil {
		t.Fatal("expected a liveness failure")
	}
	p := pb.page(res, " -x", HTMLOptions{Window: 100})
	if p.Fail == nil || p.Fail.Tick != res.Failure.Tick || p.Fail.Check != res.Failure.Check {
		t.Fatalf("page failure %+v, run's %+v", p.Fail, res.Failure)
	}
	if p.To != res.Failure.Tick || p.From != res.Failure.Tick-99 {
		t.Errorf("range %d..%d; want the 100 ticks up to the failure at %d", p.From, p.To, res.Failure.Tick)
	}
	if !strings.Contains(p.Outcome, "FAILED") || len(p.Notes) < 2 {
		t.Errorf("outcome %q, notes %q", p.Outcome, p.Notes)
	}
}
