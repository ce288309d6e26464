package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// row is every repetition of one point.
type row struct {
	sys     systemDef
	clients int
	reads   int // percent of reads (0: the write workload)
	results []result
}

// median of f over the repetitions.
func (r row) median(f func(result) float64) float64 {
	xs := make([]float64, len(r.results))
	for i, res := range r.results {
		xs[i] = f(res)
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func (r row) opsPerSec() float64 { return r.median(result.opsPerSec) }
func (r row) p50() time.Duration {
	return time.Duration(r.median(func(x result) float64 { return float64(x.p50) }))
}
func (r row) p99() time.Duration {
	return time.Duration(r.median(func(x result) float64 { return float64(x.p99) }))
}

// spread is the lowest and highest ops/s of the repetitions.
func (r row) spread() (lo, hi float64) {
	lo, hi = r.results[0].opsPerSec(), r.results[0].opsPerSec()
	for _, res := range r.results {
		lo, hi = min(lo, res.opsPerSec()), max(hi, res.opsPerSec())
	}
	return lo, hi
}

func (r row) cells() []string {
	lo, hi := r.spread()
	spread := ""
	if len(r.results) > 1 {
		spread = fmt.Sprintf(" (%.0f–%.0f)", lo, hi)
	}
	bytes := "—"
	if r.sys.transport != "mem" && r.sys.library != "unreplicated" {
		bytes = fmt.Sprintf("%.0f", r.median(func(x result) float64 { return x.bytesPerOp }))
	}
	msgs := "—"
	if r.sys.library != "unreplicated" {
		msgs = fmt.Sprintf("%.2f", r.median(func(x result) float64 { return x.msgsPerOp }))
	}
	lead := []string{r.sys.library, r.sys.transport, fmt.Sprint(r.clients)}
	if r.reads > 0 {
		lead = []string{r.sys.library, r.sys.read, r.sys.transport, fmt.Sprintf("%d%%", r.reads), fmt.Sprint(r.clients)}
	}
	return append(lead,
		fmt.Sprintf("%.0f%s", r.opsPerSec(), spread),
		micros(r.p50()), micros(r.p99()),
		msgs, bytes,
		fmt.Sprintf("%.0f", r.median(func(x result) float64 { return x.allocsPerOp })),
	)
}

func micros(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)) }

var header = []string{"system", "transport", "clients", "ops/s (min–max)", "p50 µs", "p99 µs", "msgs/op", "wire B/op", "allocs/op"}

// readHeader is the header of the read-heavy workloads' table.
var readHeader = []string{"system", "read", "transport", "reads", "clients", "ops/s (min–max)", "p50 µs", "p99 µs", "msgs/op", "wire B/op", "allocs/op"}

func (r row) text() string {
	c := r.cells()
	if r.reads > 0 {
		c = append([]string{c[0] + " " + c[1] + " " + c[3] + " reads"}, c[2], c[4], c[5], c[6], c[7], c[8], c[9], c[10])
	}
	return fmt.Sprintf("%-13s %-4s %3s clients  %8s ops/s  p50 %6s µs  p99 %6s µs  %5s msgs/op  %6s B/op  %5s allocs/op",
		c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8])
}

func markdown(rows []row) string {
	var b strings.Builder
	header := header
	if len(rows) > 0 && rows[0].reads > 0 {
		header = readHeader
	}
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(header)) + "\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r.cells(), " | ") + " |\n")
	}
	return b.String()
}

// goals checks the targets against the rows measured.
func goals(rows []row) string {
	find := func(lib, transport string, clients int) *row {
		for i := range rows {
			if rows[i].sys.library == lib && rows[i].sys.transport == transport && rows[i].clients == clients {
				return &rows[i]
			}
		}
		return nil
	}
	var b strings.Builder
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	for _, tr := range []struct{ transport, what string }{
		{"tcp", "over TCP"}, {"shared", "over TCP, one shared connection"},
	} {
		vr := find("vrlab", tr.transport, 64)
		if vr == nil {
			continue
		}
		var best *row
		for _, lib := range []string{"hashicorp", "etcd"} {
			if r := find(lib, tr.transport, 64); r != nil && (best == nil || r.opsPerSec() > best.opsPerSec()) {
				best = r
			}
		}
		if best != nil {
			x := vr.opsPerSec() / best.opsPerSec()
			fmt.Fprintf(&b, "- 64 clients %s: vrlab %.0f ops/s is %.2f× the best peer (%s, %.0f ops/s); goal ≥ 1.5×: %s\n",
				tr.what, vr.opsPerSec(), x, best.sys.library, best.opsPerSec(), mark(x >= 1.5))
		}
		if u := find("unreplicated", tr.transport, 64); u != nil {
			x := vr.opsPerSec() / u.opsPerSec()
			fmt.Fprintf(&b, "- 64 clients %s: vrlab is %.0f%% of the unreplicated ceiling (%.0f ops/s); goal ≥ 60%%: %s\n",
				tr.what, 100*x, u.opsPerSec(), mark(x >= 0.6))
		}
	}
	if vr := find("vrlab", "tcp", 1); vr != nil {
		var best *row
		for _, lib := range []string{"hashicorp", "etcd"} {
			if r := find(lib, "tcp", 1); r != nil && (best == nil || r.p50() < best.p50()) {
				best = r
			}
		}
		if best != nil {
			fmt.Fprintf(&b, "- 1 client over TCP: vrlab p50 %s µs, best peer %s µs (%s); goal ≤: %s\n",
				micros(vr.p50()), micros(best.p50()), best.sys.library, mark(vr.p50() <= best.p50()))
		}
	}
	return b.String()
}

// readGoals checks the read-heavy workloads' targets (Part F): at 64
// clients, vrlab's lease reads against the best peer's linearizable read,
// in memory (≥ 2×) and over TCP (≥ 1.5×), and no replica messages per lease
// read.
func readGoals(rows []row) string {
	var b strings.Builder
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	pcts := []int{}
	for _, r := range rows {
		if !slices.Contains(pcts, r.reads) {
			pcts = append(pcts, r.reads)
		}
	}
	for _, pct := range pcts {
		for _, goal := range []struct {
			transport string
			want      float64
		}{{"mem", 2}, {"tcp", 1.5}, {"shared", 1.5}} {
			var lease, best *row
			for i := range rows {
				r := &rows[i]
				if r.reads != pct || r.clients != 64 || r.sys.transport != goal.transport {
					continue
				}
				switch {
				case r.sys.library == "vrlab" && r.sys.read == readLease:
					lease = r
				case r.sys.library == "hashicorp" || r.sys.library == "etcd":
					if best == nil || r.opsPerSec() > best.opsPerSec() {
						best = r
					}
				}
			}
			if lease == nil || best == nil {
				continue
			}
			x := lease.opsPerSec() / best.opsPerSec()
			fmt.Fprintf(&b, "- %d%% reads, 64 clients, %s: vrlab lease reads %.0f ops/s are %.2f× the best peer (%s %s, %.0f ops/s); goal ≥ %.1f×: %s\n",
				pct, goal.transport, lease.opsPerSec(), x, best.sys.library, best.sys.read, best.opsPerSec(), goal.want, mark(x >= goal.want))
		}
	}
	for i := range rows {
		r := &rows[i]
		if r.reads == 100 && r.clients == 64 && r.sys.library == "vrlab" && r.sys.read == readLease {
			m := r.median(func(x result) float64 { return x.msgsPerOp })
			fmt.Fprintf(&b, "- 100%% reads, 64 clients, %s: %.4f replica messages per lease read (the heartbeats and their answers); goal 0: %s\n",
				r.sys.transport, m, mark(m < 0.005))
		}
	}
	return b.String()
}
