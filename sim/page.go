package sim

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"vrlab/sim/check"
	"vrlab/vr"
)

// The space-time page of a run (vrsim -seed N -html FILE): one lane per
// replica and per client, time going down, every message an arrow from its
// send to its delivery. This file turns a run's events (events.go) into the
// page's model; page.html draws it in the browser. The page is one
// self-contained file: its data, script and style are inline and it fetches
// nothing.
//
// Positions are in ticks. Inside a tick, events keep the order they happened
// in: the k-th of a tick's m events sits at tick + (k+1)/(m+1), so an arrow
// always points down, even for a message delivered in the tick it was sent.

// DefaultHTMLWindow is how many ticks a page shows when HTMLOptions names no
// range: the last ones up to a failure, or the first ones of a passing run.
const DefaultHTMLWindow = 2000

// DefaultHTMLMaxMessages caps the messages on one page: past it, the range
// shrinks (from the start when it ends at a failure, else from the end).
const DefaultHTMLMaxMessages = 25000

// HTMLOptions chooses what a page shows. The zero value is the default.
type HTMLOptions struct {
	From, To    int // the ticks shown, inclusive; 0: the default window
	Window      int // the default window's length in ticks; 0: DefaultHTMLWindow
	MaxMessages int // at most this many messages; 0: DefaultHTMLMaxMessages
	Replay      string
}

// WriteHTML runs cfg and writes its space-time page to w. opts is the run's
// (its Trace and VRDebug still work; its Events, if any, still receive every
// event); Extra also goes into the page's replay command. The result is the
// run's, as Run would return it.
func WriteHTML(w io.Writer, cfg Config, opts Options, ho HTMLOptions) (Result, error) {
	pb := newPageBuilder(cfg)
	user := opts.Events
	opts.Events = func(e Event) {
		pb.add(e)
		if user != nil {
			user(e)
		}
	}
	res := Run(cfg, opts)
	p := pb.page(res, opts.Extra, ho)
	return res, pageTemplate.Execute(w, p)
}

// WriteFailureHTML writes the page of a failure found by a sweep to
// dir/vrsim-seed<N>.html and returns the file's name. prepare is the sweep's
// (it made the seed's configuration from Draw); opts.Extra is taken from f.
func WriteFailureHTML(f *Failure, prepare func(*Config), dir string) (string, error) {
	cfg := Draw(f.Seed)
	if prepare != nil {
		prepare(&cfg)
	}
	name := filepath.Join(dir, fmt.Sprintf("vrsim-seed%d.html", f.Seed))
	file, err := os.Create(name)
	if err != nil {
		return "", err
	}
	_, err = WriteHTML(file, cfg, Options{Extra: f.Extra}, HTMLOptions{})
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return name, err
}

// ---- the model the template draws ----

// page is everything the template and its script need. The JSON names are
// short: a page holds thousands of messages.
type page struct {
	Title    string   `json:"title"`
	Seed     int64    `json:"seed"`
	Config   string   `json:"config"`
	Outcome  string   `json:"outcome"`
	Replay   string   `json:"replay"`
	Replicas int      `json:"replicas"`
	Lanes    []string `json:"lanes"` // R0…, then c0…
	From     int      `json:"from"`  // the ticks shown
	To       int      `json:"to"`
	Ticks    int      `json:"ticks"`  // the run's last tick
	Safety   int      `json:"safety"` // the safety phase's last tick
	Notes    []string `json:"notes"`  // what the page leaves out, and how to see it

	Fields []string   `json:"fields"` // the names of pageMsg.V's values, in order
	Msgs   []*pageMsg `json:"msgs"`
	Bands  []pageBand `json:"bands"`
	Marks  []pageMark `json:"marks"`
	Parts  []pagePart `json:"parts"`
	Ops    []*pageOp  `json:"ops"`
	Fail   *pageFail  `json:"fail"`
	Counts pageCounts `json:"counts"`
}

// pageMsg is one message: from its send (S, in ticks) to its delivery or
// loss (E), or in flight when the run ended (Fate "fly", E the last tick).
type pageMsg struct {
	ID   int     `json:"id"`
	From int     `json:"a"`
	To   int     `json:"b"`
	S    float64 `json:"s"`
	E    float64 `json:"e"`
	Sent int     `json:"st"` // ticks
	End  int     `json:"et"`
	Fate string  `json:"f"`             // "deliver", or how it was lost: LostLoss, LostCut, LostDown; or "fly"
	Type string  `json:"t"`             // REQUEST, PREPARE, …
	Dup  int     `json:"dup,omitempty"` // a duplicate: the ID of the message it copies
	V    []any   `json:"v"`             // every field of the vr.Message, named by page.Fields
	Line string  `json:"tr"`            // the message as the text trace writes it: R0→R1 PREPARE 0→1 v0 n3 k2
}

// pageBand is a stretch of one replica's lane in one state.
type pageBand struct {
	Lane    int     `json:"r"`
	S       float64 `json:"s"`
	E       float64 `json:"e"`
	View    int     `json:"v"`
	Status  string  `json:"st"` // normal, view-change, recovering, state-transfer, down
	Primary bool    `json:"p"`
	Life    int     `json:"l"`
	LNV     int     `json:"lnv"`
}

// pageMark is a point event on one lane (crash, restart) or across all
// (heal: Lane -1).
type pageMark struct {
	Kind string  `json:"k"`
	Lane int     `json:"r"`
	Y    float64 `json:"y"`
	Tick int     `json:"t"`
	Text string  `json:"x"`
}

// pagePart is a partition, from its start to its heal.
type pagePart struct {
	S    float64  `json:"s"`
	E    float64  `json:"e"`
	From int      `json:"st"`
	To   int      `json:"et"`
	Desc string   `json:"x"`
	Cut  [][2]int `json:"cut"`
}

// pageOp is a client's request, from invocation to completion (E -1: still
// outstanding when the run ended).
type pageOp struct {
	Client  int     `json:"c"`
	Request int     `json:"q"`
	S       float64 `json:"s"`
	E       float64 `json:"e"`
	From    int     `json:"st"`
	To      int     `json:"et"`
	Op      int     `json:"op"`
	Name    string  `json:"x"`
	First   int     `json:"r"` // the replica it was first sent to
}

type pageFail struct {
	Tick  int     `json:"t"`
	Y     float64 `json:"y"`
	Check string  `json:"check"`
	Msg   string  `json:"msg"`
	Phase string  `json:"phase"`
}

// pageCounts are the totals of the shown range, for the header (and tests).
type pageCounts struct {
	Delivered int            `json:"delivered"`
	Lost      int            `json:"lost"`
	InFlight  int            `json:"inflight"`
	ByType    map[string]int `json:"bytype"`
}

// msgFields are the names of pageMsg.V: every field of vr.Message.
var msgFields = []string{"Type", "From", "To", "Epoch", "View", "OpNumber", "CommitNumber", "LastNormalView",
	"LogStart", "Entries", "Checkpoint", "Nonce", "Primary", "ClientID", "RequestNum", "Op", "Result", "Members", "OldMembers", "Err", "SentAt", "Grant", "ReadOnly"}

// ---- building it ----

// pageBuilder collects a run's events as they happen, turning each message
// into its page form at once (the run may reuse a message's memory later).
type pageBuilder struct {
	cfg      Config
	events   []Event          // every event but sends (kept as msgs)
	tickOf   []int            // the event's tick, by sequence number
	msgs     map[int]*pageMsg // by ID
	order    []*pageMsg
	clientID map[int64]int // vr client ID → client index
	lastTick int
	perTick  []int // events in each tick
	sendSeq  map[int]int
	endSeq   map[int]int
}

func newPageBuilder(cfg Config) *pageBuilder {
	return &pageBuilder{cfg: cfg, msgs: map[int]*pageMsg{}, clientID: map[int64]int{}, sendSeq: map[int]int{}, endSeq: map[int]int{}}
}

// seqOf numbers the event in its tick, to place it inside the tick later.
func (pb *pageBuilder) seqOf(tick int) int {
	for len(pb.perTick) <= tick {
		pb.perTick = append(pb.perTick, 0)
	}
	k := pb.perTick[tick]
	pb.perTick[tick]++
	return k
}

// pos is the position of an event, in ticks: the k-th event of tick t.
func (pb *pageBuilder) pos(t, k int) float64 {
	return float64(t) + float64(k+1)/float64(pb.perTick[t]+1)
}

func (pb *pageBuilder) add(e Event) {
	pb.lastTick = e.Tick
	k := pb.seqOf(e.Tick)
	switch e.Kind {
	case EvSend, EvDuplicate:
		m := e.Msg
		if e.From >= pb.cfg.Replicas && m.Type == vr.MsgRequest {
			pb.clientID[m.ClientID] = e.From - pb.cfg.Replicas
		}
		pm := &pageMsg{ID: e.ID, From: e.From, To: e.To, Sent: e.Tick, Fate: "fly", Type: m.Type.String(), Dup: e.Orig,
			V: pb.fields(m), Line: pb.nodeName(e.From) + "→" + pb.nodeName(e.To) + " " + m.String()}
		pb.msgs[e.ID] = pm
		pb.order = append(pb.order, pm)
		pb.sendSeq[e.ID] = k
		return
	case EvDeliver, EvDrop:
		pm := pb.msgs[e.ID]
		if pm == nil {
			return
		}
		pm.End = e.Tick
		pm.Fate = "deliver"
		if e.Kind == EvDrop {
			pm.Fate = e.Why
		}
		pb.endSeq[e.ID] = k
		return
	}
	e.Msg = nil
	pb.events = append(pb.events, e)
	pb.tickOf = append(pb.tickOf, k)
}

func (pb *pageBuilder) nodeName(n int) string {
	if n < pb.cfg.Replicas {
		return "R" + itoa(n)
	}
	return "c" + itoa(n-pb.cfg.Replicas)
}

// fields lists every field of m, in msgFields' order: numbers as numbers,
// the rest as text.
func (pb *pageBuilder) fields(m *vr.Message) []any {
	to := any(m.To)
	if m.To == vr.ToClient {
		to = "-1 (to the client)"
	}
	client := any(m.ClientID)
	if c, ok := pb.clientID[m.ClientID]; ok {
		client = fmt.Sprintf("%d (c%d)", m.ClientID, c)
	}
	return []any{m.Type.String(), m.From, to, m.Epoch, m.View, m.OpNumber, m.CommitNumber, m.LastNormalView,
		m.LogStart, entriesText(m), checkpointText(m.Checkpoint), m.Nonce, m.Primary, client, m.RequestNum,
		opText(m.Op), resultText(m.Result), membersText(m.Members), membersText(m.OldMembers), m.Err, m.SentAt, m.Grant, m.ReadOnly}
}

// membersText is a configuration (part E), or "none".
func membersText(members []int) string {
	if members == nil {
		return "none"
	}
	return fmt.Sprint(members)
}

// entriesText: how many entries, their op-numbers and the first few ops.
func entriesText(m *vr.Message) string {
	if len(m.Entries) == 0 {
		return "none"
	}
	const show = 8
	var b strings.Builder
	fmt.Fprintf(&b, "%d: ops %d..%d:", len(m.Entries), m.LogStart+1, m.LogStart+len(m.Entries))
	for i, e := range m.Entries {
		if i == show {
			fmt.Fprintf(&b, " … (%d more)", len(m.Entries)-show)
			break
		}
		b.WriteString(" " + opText(e.Op))
	}
	return b.String()
}

func checkpointText(c *vr.Checkpoint) string {
	if c == nil {
		return "none"
	}
	return fmt.Sprintf("op %d, state %d bytes, client-table %d rows", c.OpNumber, len(c.State), len(c.ClientTable))
}

// opText names a simulated op (c<client>.<request>).
func opText(op []byte) string {
	if len(op) == 0 {
		return ""
	}
	if key := check.DecodeOp(op); key != 0 {
		return check.OpName(key)
	}
	return fmt.Sprintf("%x", op)
}

// resultText: a simulated op's result is its op-number and the log hash.
func resultText(r []byte) string {
	if len(r) == 0 {
		return ""
	}
	if n, h, ok := check.DecodeResult(r); ok {
		return fmt.Sprintf("op %d, log hash %016x", n, h)
	}
	return fmt.Sprintf("%x", r)
}

// page chooses the range and lays out everything in it.
func (pb *pageBuilder) page(res Result, extra string, ho HTMLOptions) *page {
	cfg := pb.cfg
	last := max(res.Stats.Ticks, pb.lastTick)
	for len(pb.perTick) <= last+1 {
		pb.perTick = append(pb.perTick, 0)
	}
	p := &page{
		Seed: cfg.Seed, Config: cfg.String(), Replicas: cfg.Replicas, Ticks: last, Safety: cfg.SafetyTicks,
		Replay: fmt.Sprintf("go run ./cmd/vrsim -seed %d%s", cfg.Seed, extra), Fields: msgFields,
		Counts: pageCounts{ByType: map[string]int{}},
		// Empty, not nil: the script reads them as arrays, never null.
		Lanes: []string{}, Notes: []string{}, Msgs: []*pageMsg{}, Bands: []pageBand{},
		Marks: []pageMark{}, Parts: []pagePart{}, Ops: []*pageOp{},
	}
	p.Title = fmt.Sprintf("vrsim seed %d", cfg.Seed)
	for i := 0; i < cfg.Replicas; i++ {
		p.Lanes = append(p.Lanes, "R"+itoa(i))
	}
	for c := 0; c < cfg.Clients+adminNodes(cfg); c++ { // Part E: the administrator's lane last
		p.Lanes = append(p.Lanes, "c"+itoa(c))
	}
	if f := res.Failure; f != nil {
		p.Outcome = fmt.Sprintf("FAILED at tick %d (%s phase): %s: %s", f.Tick, f.Phase, f.Check, f.Msg)
		p.Title += " FAILED"
	} else {
		p.Outcome = fmt.Sprintf("passed: %d ticks, %d ops committed, %d of %d requests completed, %d faults, highest view %d",
			res.Stats.Ticks, res.Stats.Committed, res.Stats.Completed, res.Stats.Requests, res.Stats.Faults(), res.Stats.MaxView)
	}

	// The range.
	window := ho.Window
	if window <= 0 {
		window = DefaultHTMLWindow
	}
	fromEnd := false // the range ends where it must (a failure): trim the start
	switch {
	case ho.From > 0 || ho.To > 0:
		p.From, p.To = max(ho.From, 1), ho.To
		if p.To <= 0 || p.To > last {
			p.To = last
		}
		p.From = min(p.From, p.To)
	case res.Failure != nil:
		p.To = res.Failure.Tick
		p.From = max(1, p.To-window+1)
		fromEnd = true
	default:
		p.From, p.To = 1, min(last, window)
	}
	maxMsgs := ho.MaxMessages
	if maxMsgs <= 0 {
		maxMsgs = DefaultHTMLMaxMessages
	}
	endTick := func(m *pageMsg) int {
		if m.Fate == "fly" {
			return m.Sent
		}
		return m.End
	}
	// Trim the range to maxMsgs messages: count messages by the tick they end.
	perTick := make([]int, last+2)
	for _, m := range pb.order {
		perTick[endTick(m)]++
	}
	total := 0
	for t := p.From; t <= p.To; t++ {
		total += perTick[t]
	}
	trimmed := false
	for total > maxMsgs && p.From < p.To {
		trimmed = true
		if fromEnd {
			total -= perTick[p.From]
			p.From++
		} else {
			total -= perTick[p.To]
			p.To--
		}
	}
	in := func(t int) bool { return t >= p.From && t <= p.To }

	// Notes: say what is left out.
	if p.From > 1 || p.To < last {
		note := fmt.Sprintf("Shows ticks %d..%d of 1..%d", p.From, p.To, last)
		switch {
		case trimmed:
			note += fmt.Sprintf(" (cut to at most %d messages)", maxMsgs)
		case ho.From == 0 && ho.To == 0 && res.Failure != nil:
			note += fmt.Sprintf(" (the last %d before the failure)", window)
		case ho.From == 0 && ho.To == 0:
			note += fmt.Sprintf(" (the first %d)", window)
		}
		note += fmt.Sprintf(". Another range: %s -html FILE -html-from A -html-to B.", p.Replay)
		p.Notes = append(p.Notes, note)
	}
	p.Notes = append(p.Notes, "A message is shown in the range if it arrives (or is lost, or, still in flight at the end, was sent) in it; one sent earlier starts at the top.")

	// Messages.
	for _, m := range pb.order {
		if !in(endTick(m)) {
			continue
		}
		m.S = pb.pos(m.Sent, pb.sendSeq[m.ID])
		if m.Fate == "fly" {
			m.E = float64(last) + 1
			m.End = last
			p.Counts.InFlight++
		} else {
			m.E = pb.pos(m.End, pb.endSeq[m.ID])
			if m.Fate == "deliver" {
				p.Counts.Delivered++
			} else {
				p.Counts.Lost++
			}
		}
		p.Counts.ByType[m.Type]++
		p.Msgs = append(p.Msgs, m)
	}

	// Lanes' states, crashes, partitions, clients' ops, the failure.
	open := make([]*pageBand, cfg.Replicas) // each replica's current band
	var bands []*pageBand
	openBand := func(b *pageBand) {
		if o := open[b.Lane]; o != nil {
			o.E = b.S
		}
		open[b.Lane] = b
		bands = append(bands, b)
	}
	var partOpen *pagePart
	var parts []*pagePart
	ops := map[[2]int]*pageOp{}
	var allOps []*pageOp
	for i, e := range pb.events {
		y := pb.pos(e.Tick, pb.tickOf[i])
		switch e.Kind {
		case EvState:
			openBand(&pageBand{Lane: e.Replica, S: y, View: e.State.View, Status: e.State.Status.String(), Primary: e.State.IsPrimary, Life: e.Life, LNV: e.State.LastNormalView})
		case EvCrash:
			openBand(&pageBand{Lane: e.Replica, S: y, Status: "down", Life: e.Life, View: -1})
			p.addMark(in, "crash", e.Replica, y, e.Tick, fmt.Sprintf("R%d crashes (life %d); restarts at tick %d", e.Replica, e.Life, e.Until))
		case EvRestart:
			p.addMark(in, "restart", e.Replica, y, e.Tick, fmt.Sprintf("R%d restarts: life %d, recovering", e.Replica, e.Life))
		case EvPartition:
			if partOpen != nil {
				partOpen.E, partOpen.To = y, e.Tick
			}
			partOpen = &pagePart{S: y, E: float64(last) + 1, From: e.Tick, To: last, Desc: e.Desc, Cut: append([][2]int{}, e.Cut...)}
			parts = append(parts, partOpen)
		case EvHeal:
			if partOpen != nil {
				partOpen.E, partOpen.To = y, e.Tick
				partOpen = nil
			}
			p.addMark(in, "heal", -1, y, e.Tick, e.Desc)
		case EvInvoke:
			op := &pageOp{Client: e.Client, Request: e.Request, S: y, E: -1, From: e.Tick, To: -1, Name: check.OpName(check.OpKey(e.Client, e.Request)), First: e.To}
			if e.Read {
				op.Name += " (read)"
			}
			ops[[2]int{e.Client, e.Request}] = op
			allOps = append(allOps, op)
		case EvReturn:
			if op := ops[[2]int{e.Client, e.Request}]; op != nil {
				op.E, op.To, op.Op = y, e.Tick, e.OpNumber
			}
		case EvFailure:
			p.Fail = &pageFail{Tick: e.Tick, Y: y, Check: e.Check, Msg: e.Desc, Phase: e.Phase}
		}
	}
	end := float64(last) + 1
	for _, b := range bands {
		if b.E == 0 {
			b.E = end
		}
		// Keep the bands that overlap the range (the one in force at its
		// start included).
		if b.E >= float64(p.From) && b.S < float64(p.To+1) {
			p.Bands = append(p.Bands, *b)
		}
	}
	for _, pt := range parts {
		if pt.E >= float64(p.From) && pt.S < float64(p.To+1) {
			p.Parts = append(p.Parts, *pt)
		}
	}
	for _, op := range allOps {
		e := op.E
		if e < 0 {
			e = end
		}
		if e >= float64(p.From) && op.S < float64(p.To+1) {
			p.Ops = append(p.Ops, op)
		}
	}
	if p.Fail != nil && !in(p.Fail.Tick) {
		p.Notes = append(p.Notes, fmt.Sprintf("The failure, at tick %d, is outside the range shown.", p.Fail.Tick))
	}
	return p
}

func (p *page) addMark(in func(int) bool, kind string, lane int, y float64, tick int, text string) {
	if in(tick) {
		p.Marks = append(p.Marks, pageMark{Kind: kind, Lane: lane, Y: y, Tick: tick, Text: text})
	}
}

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))
