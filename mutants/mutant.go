package main

import (
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Mutant is one seeded bug: a plausible mistake, written as source rewrites.
type Mutant struct {
	Name   string   // short, unique: the report's first column
	Part   string   // the lab part whose graded tests must catch it
	Breaks string   // what it breaks: a VR-PROTOCOL.md §9 item, or a handout's "usual mistake"
	Edits  []Edit   // applied in order
	Tests  []string // graded tests of Part that catch it: at least one must fail in every run
}

// Edit replaces the one occurrence of Find in File (a slash path from the
// repository root) with Replace.
type Edit struct {
	File, Find, Replace string
}

func edit(file, find, replace string) Edit { return Edit{file, find, replace} }

// apply returns the mutated text of every file m changes. A Find that does
// not occur exactly once (after the edits before it) makes the mutant stale.
func (m Mutant) apply(tree fs.FS) (map[string]string, error) {
	out := map[string]string{}
	for i, e := range m.Edits {
		text, ok := out[e.File]
		if !ok {
			b, err := fs.ReadFile(tree, e.File)
			if err != nil {
				return nil, fmt.Errorf("mutant %s, edit %d: %v", m.Name, i+1, err)
			}
			text = string(b)
		}
		switch n := strings.Count(text, e.Find); n {
		case 1:
		case 0:
			return nil, fmt.Errorf("mutant %s is stale: edit %d's snippet no longer occurs in %s:\n%s", m.Name, i+1, e.File, indent(e.Find))
		default:
			return nil, fmt.Errorf("mutant %s: edit %d's snippet occurs %d times in %s; make it unique:\n%s", m.Name, i+1, n, e.File, indent(e.Find))
		}
		out[e.File] = strings.Replace(text, e.Find, e.Replace, 1)
	}
	return out, nil
}

// validate checks m against the grading table: its part exists and every
// test it names is a graded test of that part.
func (m Mutant) validate(table gradingTable) error {
	if m.Name == "" || len(m.Edits) == 0 || len(m.Tests) == 0 || m.Breaks == "" {
		return fmt.Errorf("mutant %q: needs a name, what it breaks, edits and catching tests", m.Name)
	}
	for _, t := range m.Tests {
		if table.partOf[t] != m.Part {
			return fmt.Errorf("mutant %s: %s is not a graded test of part %s in grade.sh", m.Name, t, m.Part)
		}
	}
	return nil
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

func selectMutants(all []Mutant, parts, match string) ([]Mutant, error) {
	var re *regexp.Regexp
	if match != "" {
		var err error
		if re, err = regexp.Compile(match); err != nil {
			return nil, fmt.Errorf("-run: %v", err)
		}
	}
	var want []string
	if parts != "" {
		want = strings.Split(strings.ToUpper(parts), ",")
	}
	var sel []Mutant
	for _, m := range all {
		if (want == nil || slices.Contains(want, m.Part)) && (re == nil || re.MatchString(m.Name)) {
			sel = append(sel, m)
		}
	}
	if len(sel) == 0 {
		return nil, fmt.Errorf("no mutant matches -part %q -run %q", parts, match)
	}
	return sel, nil
}

// leaveOut removes the tests matching pattern from the mutants' catching
// tests and from the table (so -full skips them too). A mutant left with no
// catching test keeps none, and the report shows it escaped: only the left-out
// tests catch it.
func leaveOut(ms []Mutant, table gradingTable, pattern string) ([]Mutant, gradingTable, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, table, fmt.Errorf("-without: %v", err)
	}
	out := make([]Mutant, len(ms))
	for i, m := range ms {
		m.Tests = slices.DeleteFunc(slices.Clone(m.Tests), re.MatchString)
		out[i] = m
	}
	kept := gradingTable{partOf: map[string]string{}}
	for _, name := range table.order {
		if !re.MatchString(name) {
			kept.order = append(kept.order, name)
			kept.partOf[name] = table.partOf[name]
		}
	}
	return out, kept, nil
}

// gradingTable is grade.sh's table: test name → part, in table order.
type gradingTable struct {
	order  []string
	partOf map[string]string
}

func (t gradingTable) testsOf(part string) []string {
	var out []string
	for _, name := range t.order {
		if t.partOf[name] == part {
			out = append(out, name)
		}
	}
	return out
}

var tableRow = regexp.MustCompile(`^(Test\w+)\s+([A-Z]+)\s+\d+\s*$`)

func readGradingTable(path string) (gradingTable, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return gradingTable{}, err
	}
	t := gradingTable{partOf: map[string]string{}}
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(line, "<<'END_OF_TABLE'"):
			in = true
		case strings.HasPrefix(line, "END_OF_TABLE"):
			in = false
		case in:
			if g := tableRow.FindStringSubmatch(line); g != nil {
				t.order = append(t.order, g[1])
				t.partOf[g[1]] = g[2]
			}
		}
	}
	if len(t.order) == 0 {
		return t, fmt.Errorf("no grading table found in %s", path)
	}
	return t, nil
}

type summary struct {
	text, markdown string
	escaped        int
}

// report is the table of results, with totals per part.
func report(results []result, runs int, took time.Duration) summary {
	var txt, md strings.Builder
	fmt.Fprintf(&md, "| mutant | part | breaks | caught by | runs caught |\n|---|---|---|---|---|\n")
	type tally struct{ total, caught int }
	per := map[string]*tally{}
	var order []string
	var s summary
	for _, r := range results {
		if per[r.m.Part] == nil {
			per[r.m.Part] = &tally{}
			order = append(order, r.m.Part)
		}
		per[r.m.Part].total++
		verdict := fmt.Sprintf("%d/%d", r.caught, r.runs)
		if r.err != nil {
			verdict = "error: " + r.err.Error()
		}
		if r.escaped() {
			s.escaped++
			verdict = "**ESCAPED** " + verdict
		} else {
			per[r.m.Part].caught++
		}
		by := strings.Join(r.by, ", ")
		if len(r.allBy) > 0 {
			by += " (all: " + strings.Join(r.allBy, ", ") + ")"
		}
		fmt.Fprintf(&md, "| %s | %s | %s | %s | %s |\n", r.m.Name, r.m.Part, r.m.Breaks, by, verdict)
	}
	fmt.Fprintf(&txt, "%-5s %8s %8s\n", "part", "mutants", "caught")
	for _, p := range order {
		fmt.Fprintf(&txt, "%-5s %8d %8d\n", p, per[p].total, per[p].caught)
	}
	fmt.Fprintf(&txt, "%d mutants, %d caught in %d of %d runs, %d escaped (%v)\n", len(results), len(results)-s.escaped, runs, runs, s.escaped, took.Round(time.Second))
	md.WriteString("\n```\n" + txt.String() + "```\n")
	s.text, s.markdown = txt.String(), md.String()
	return s
}
