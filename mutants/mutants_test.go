package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCatalogueApplies: every mutant still matches the code, names graded
// tests of its part, and has a unique name. It runs with go test ./..., so a
// change to the protocol code that leaves a mutant stale fails CI at once.
func TestCatalogueApplies(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	table, err := readGradingTable(filepath.Join(root, "grade.sh"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range catalogue {
		if seen[m.Name] {
			t.Errorf("mutant name %s used twice", m.Name)
		}
		seen[m.Name] = true
		if err := m.validate(table); err != nil {
			t.Error(err)
		}
		if _, err := m.apply(os.DirFS(root)); err != nil {
			t.Error(err)
		}
	}
}

// TestApplyReportsStale: a snippet that does not occur, or occurs twice, is
// an error naming the mutant.
func TestApplyReportsStale(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.go"), []byte("a b a"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, find := range []string{"zzz", "a"} {
		m := Mutant{Name: "m", Edits: []Edit{edit("f.go", find, "c")}}
		if _, err := m.apply(os.DirFS(dir)); err == nil {
			t.Errorf("snippet %q: no error", find)
		}
	}
	m := Mutant{Name: "m", Edits: []Edit{edit("f.go", "b", "c")}}
	got, err := m.apply(os.DirFS(dir))
	if err != nil || got["f.go"] != "a c a" {
		t.Errorf("apply = %q, %v; want \"a c a\"", got["f.go"], err)
	}
}
