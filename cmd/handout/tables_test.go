package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestHandoutTablesMatchGrader: every handout's table of tests lists exactly
// the graded tests of its part, with the points grade.sh gives them, so a
// student reads the same points the grader awards.
func TestHandoutTablesMatchGrader(t *testing.T) {
	table, err := readTable(filepath.Join("..", "..", "grade.sh"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int{} // part → test → points
	for _, g := range table {
		if want[g.part] == nil {
			want[g.part] = map[string]int{}
		}
		want[g.part][g.name] = g.points
	}
	row := regexp.MustCompile("(?m)^\\| `(Test\\w+)` \\| (\\d+) \\|")
	for part, tests := range want {
		path := filepath.Join("..", "..", "LAB-"+part+".md")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("part %s: %v", part, err)
			continue
		}
		seen := map[string]bool{}
		for _, m := range row.FindAllStringSubmatch(string(data), -1) {
			name, pts := m[1], m[2]
			seen[name] = true
			p, ok := tests[name]
			switch {
			case !ok:
				t.Errorf("LAB-%s.md lists %s, which grade.sh does not grade in part %s", part, name, part)
			case strconv.Itoa(p) != pts:
				t.Errorf("LAB-%s.md gives %s %s points; grade.sh gives %d", part, name, pts, p)
			}
		}
		for name := range tests {
			if !seen[name] {
				t.Errorf("LAB-%s.md's table of tests does not list %s (graded in part %s)", part, name, part)
			}
		}
	}
}
