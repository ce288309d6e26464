package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lines joins its arguments into a file's text. The tests build their
// inputs this way, never with multi-line raw strings, so that no marker
// line of theirs starts a source line: cutting this repository must not
// mistake them for regions.
func lines(l ...string) string {
	return strings.Join(l, "\n") + "\n"
}

func TestCutReplacesRegionWithStubs(t *testing.T) {
	src := lines(
		"package vr",
		"",
		"func (r *Replica) quorumOK(n int) bool {",
		"\t//lab:begin A",
		"\treturn n >= r.f",
		"\t//lab:stub return false",
		"\t//lab:end",
		"}",
		"",
		"func (r *Replica) onPrepare(m Message) {",
		"\tif m.View > 0 {",
		"\t\t//lab:begin B",
		"\t\tr.log = append(r.log, m.Op)",
		"\t\t//lab:end",
		"\t}",
		"}",
	)
	want := lines(
		"package vr",
		"",
		"func (r *Replica) quorumOK(n int) bool {",
		"\t// Your code here (A).",
		"\treturn false",
		"}",
		"",
		"func (r *Replica) onPrepare(m Message) {",
		"\tif m.View > 0 {",
		"\t\t// Your code here (B).",
		"\t}",
		"}",
	)
	got, err := cut("vr.go", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("cut:\n%s\nwant:\n%s", got, want)
	}
}

func TestCutKeepsKeptParts(t *testing.T) {
	src := lines(
		"package vr",
		"",
		"func quorum(n, f int) bool {",
		"\t//lab:begin A",
		"\treturn n >= f",
		"\t//lab:stub return false",
		"\t//lab:end",
		"}",
		"",
		"func next(v int) int {",
		"\t//lab:begin B",
		"\treturn v + 1",
		"\t//lab:stub return 0",
		"\t//lab:end",
		"}",
	)
	want := lines(
		"package vr",
		"",
		"func quorum(n, f int) bool {",
		"\treturn n >= f",
		"}",
		"",
		"func next(v int) int {",
		"\t// Your code here (B).",
		"\treturn 0",
		"}",
	)
	got, err := cut("vr.go", []byte(src), map[string]bool{"A": true})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("cut keeping A:\n%s\nwant:\n%s", got, want)
	}
}

func TestCutRemovesImportsItLeftUnused(t *testing.T) {
	src := lines(
		"package vr",
		"",
		"import (",
		"\t\"fmt\"",
		"\t// rand picks timeouts.",
		"\t\"math/rand/v2\" // comment that goes with it",
		"\tstr \"strings\"",
		"\t_ \"embed\"",
		"\t\"example.com/go-notyaml\" // package yaml: never referenced as notyaml",
		"\t\"os\"",
		")",
		"",
		"import \"sort\"",
		"",
		"var _ = yaml.Marshal",
		"",
		"func f() {",
		"\tfmt.Println(os.Args)",
		"\t//lab:begin C",
		"\tfmt.Println(rand.IntN(3), str.ToUpper(\"x\"), sort.Ints)",
		"\t//lab:end",
		"}",
	)
	want := lines(
		"package vr",
		"",
		"import (",
		"\t_ \"embed\"",
		"\t\"example.com/go-notyaml\" // package yaml: never referenced as notyaml",
		"\t\"fmt\"",
		"\t\"os\"",
		")",
		"",
		"var _ = yaml.Marshal",
		"",
		"func f() {",
		"\tfmt.Println(os.Args)",
		"\t// Your code here (C).",
		"}",
	)
	got, err := cut("vr.go", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("cut:\n%s\nwant:\n%s", got, want)
	}
}

func TestCutLeavesFilesWithoutMarkersAlone(t *testing.T) {
	src := "package vr\nfunc   notGofmted() {}\n"
	got, err := cut("vr.go", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != src {
		t.Errorf("cut changed a file without markers:\n%s", got)
	}
}

func TestCutErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // in the error
	}{
		{
			"nested",
			lines("package vr", "//lab:begin A", "//lab:begin B", "//lab:end", "//lab:end"),
			"vr.go:3: //lab:begin B inside the region begun at line 2",
		},
		{
			"unterminated",
			lines("package vr", "", "func f() {", "\t//lab:begin A", "}"),
			"vr.go:4: //lab:begin A is never closed",
		},
		{
			"end outside region",
			lines("package vr", "//lab:end"),
			"vr.go:2: //lab:end outside any region",
		},
		{
			"stub outside region",
			lines("package vr", "//lab:stub return"),
			"vr.go:2: //lab:stub return outside any region",
		},
		{
			"unknown part",
			lines("package vr", "//lab:begin Z", "//lab:end"),
			"vr.go:2: //lab:begin Z: want one part",
		},
		{
			"missing part",
			lines("package vr", "//lab:begin", "//lab:end"),
			"vr.go:2: //lab:begin: want one part",
		},
		{
			"unknown marker",
			lines("package vr", "//lab:begin A", "//lab:stop", "//lab:end"),
			"vr.go:3: unknown marker //lab:stop",
		},
		{
			"stub that does not parse",
			lines("package vr", "func f() {", "//lab:begin A", "//lab:stub return (", "//lab:end", "}"),
			"vr.go: the cut file does not parse",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cut("vr.go", []byte(tt.src), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// writeFiles writes files (path relative to dir -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCutTree(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "handout")
	markedMarkdown := lines("# Notes", "//lab:begin A", "kept as is", "//lab:end")
	writeFiles(t, src, map[string]string{
		"README.md":        markedMarkdown,
		"go.mod":           "module vrlab\n",
		"vr/vr.go":         lines("package vr", "", "func f() int {", "\t//lab:begin A", "\treturn 1", "\t//lab:stub return 0", "\t//lab:end", "}"),
		"vr/plain.go":      "package vr\n",
		".git/config":      "[core]\n",
		"vr/.git/HEAD":     "ref\n",
		"grade-logs/x.log": "log\n",
	})
	if err := os.WriteFile(filepath.Join(src, "grade.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	if err := cutTree(src, out, nil); err != nil {
		t.Fatal(err)
	}

	read := func(name string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if got := read("README.md"); got != markedMarkdown {
		t.Errorf("README.md = %q, want it copied verbatim", got)
	}
	if got := read("vr/plain.go"); got != "package vr\n" {
		t.Errorf("vr/plain.go = %q", got)
	}
	if got := read("vr/vr.go"); !strings.Contains(got, "// Your code here (A).\n\treturn 0\n") {
		t.Errorf("vr/vr.go was not cut:\n%s", got)
	}
	if info, err := os.Stat(filepath.Join(out, "grade.sh")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("grade.sh lost its mode: %v %v", info, err)
	}
	for _, skipped := range []string{".git", "vr/.git", "grade-logs"} {
		if _, err := os.Stat(filepath.Join(out, skipped)); err == nil {
			t.Errorf("%s was copied", skipped)
		}
	}
}

func TestCutTreeReportsEveryBadFile(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string]string{
		"a.go": lines("package p", "//lab:end"),
		"b.go": lines("package p", "", "//lab:begin A"),
	})
	err := cutTree(src, t.TempDir(), nil)
	if err == nil {
		t.Fatal("cutTree succeeded on bad markers")
	}
	for _, want := range []string{"a.go:2:", "b.go:3:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestCutTreeSkipsOutInsideSource(t *testing.T) {
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"go.mod": "module m\n", "handout/old.txt": "stale\n"})
	out := filepath.Join(src, "handout")
	if err := cutTree(src, out, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "handout")); err == nil {
		t.Error("the output directory was copied into itself")
	}
}

func TestCheckOutDir(t *testing.T) {
	src := t.TempDir()
	empty := filepath.Join(t.TempDir(), "new")
	full := t.TempDir()
	writeFiles(t, full, map[string]string{"x": "x"})

	if err := checkOutDir(src, empty, false); err != nil {
		t.Errorf("absent dir: %v", err)
	}
	if err := checkOutDir(src, full, false); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty dir: %v, want a 'not empty' error", err)
	}
	if err := checkOutDir(src, full, true); err != nil {
		t.Errorf("non-empty dir with -force: %v", err)
	}
	if err := checkOutDir(src, src, true); err == nil {
		t.Error("out == src accepted")
	}
	if err := checkOutDir(src, filepath.Dir(src), true); err == nil {
		t.Error("out holding src accepted")
	}
}

func TestParseParts(t *testing.T) {
	got, err := parseParts("kv,a, C,A")
	if err != nil || strings.Join(got, ",") != "A,C,KV" {
		t.Errorf("parseParts = %v, %v; want [A C KV]", got, err)
	}
	if _, err := parseParts("A,Z"); err == nil {
		t.Error("unknown part accepted")
	}
}

// TestGradingTable checks the repository's grade.sh table: it parses, and
// each test's name ends with its part.
func TestGradingTable(t *testing.T) {
	table, err := readTable(filepath.Join("..", "..", gradeScript))
	if err != nil {
		t.Fatal(err)
	}
	if len(table) == 0 {
		t.Fatal("empty grading table")
	}
	seen := make(map[string]bool)
	for _, row := range table {
		if !strings.HasSuffix(row.name, row.part) || !strings.HasPrefix(row.name, "Test") {
			t.Errorf("%s is in part %s: want a name Test...%s", row.name, row.part, row.part)
		}
		if seen[row.name] {
			t.Errorf("%s is listed twice", row.name)
		}
		seen[row.name] = true
	}
}

// TestVerify runs -verify's checks on a small module: part A's test fails
// on the skeleton, as it should; part B's passes, which verify reports.
func TestVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	src := t.TempDir()
	table := lines(
		"read -r -d '' GRADING_TABLE <<'END_OF_TABLE' || true",
		"TestAddA A 10",
		"TestNothingB B 5",
		"TestMissingB B 5",
		"END_OF_TABLE",
	)
	writeFiles(t, src, map[string]string{
		"go.mod":   "module vrlab\n\ngo 1.22\n",
		"grade.sh": table,
		"vr/vr.go": lines("package vr", "", "func Add(a, b int) int {", "\t//lab:begin A", "\treturn a + b", "\t//lab:stub return 0", "\t//lab:end", "}"),
		"tests/vr_test.go": lines(
			"package tests",
			"",
			"import (",
			"\t\"testing\"",
			"\t\"vrlab/vr\"",
			")",
			"",
			"func TestAddA(t *testing.T) {",
			"\tif vr.Add(1, 2) != 3 {",
			"\t\tt.Fatal(\"wrong sum\")",
			"\t}",
			"}",
			"",
			"func TestNothingB(t *testing.T) {}",
		),
	})

	var report strings.Builder
	ok, err := verify(&report, src, []string{"A"})
	if err != nil || !ok {
		t.Errorf("verify A = %v, %v; want true, nil", ok, err)
	}
	ok, err = verify(&report, src, []string{"B"})
	if err != nil || ok {
		t.Errorf("verify B = %v, %v; want false, nil: TestNothingB passes on the skeleton", ok, err)
	}
	for _, want := range []string{
		"TestAddA: FAIL on skeleton (good)",
		"TestNothingB: PASS on skeleton (BAD: this test does not test part B)",
		"TestMissingB: not present, skipped",
	} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, report.String())
		}
	}
}
