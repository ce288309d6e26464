package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

const (
	// gradeScript holds the grading table, relative to the source root.
	gradeScript = "grade.sh"
	// tableEnd ends the grading table's here-document in gradeScript.
	tableEnd = "END_OF_TABLE"
	// testPkg is the graded tests' package directory.
	testPkg = "tests"
	// testTimeout bounds one graded test's run on a skeleton.
	testTimeout = 60 * time.Second
)

// gradedTest is one row of grade.sh's grading table.
type gradedTest struct {
	name   string
	part   string
	points int
}

// readTable reads the grading table of the grade.sh file at path: the
// rows "NAME PART POINTS" of the here-document that ends with tableEnd.
func readTable(path string) ([]gradedTest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var (
		table   []gradedTest
		inTable bool
		found   bool
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for lineno := 1; sc.Scan(); lineno++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case !inTable:
			inTable = strings.Contains(line, "<<'"+tableEnd+"'")
			found = found || inTable
			continue
		case line == tableEnd:
			inTable = false
			continue
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 || !slices.Contains(partOrder, fields[1]) {
			return nil, fmt.Errorf("%s:%d: bad grading table row %q", path, lineno, line)
		}
		points, err := strconv.Atoi(fields[2])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: bad points in grading table row %q", path, lineno, line)
		}
		table = append(table, gradedTest{name: fields[0], part: fields[1], points: points})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found || inTable {
		return nil, fmt.Errorf("%s: no grading table (a here-document ending in %s)", path, tableEnd)
	}
	return table, nil
}

// verify checks, for each of parts, the skeleton of src that keeps the
// solution of the parts before it: that it builds and vets, and that each
// of the part's graded tests present in it fails. It prints a report and
// returns whether every check passed; err reports a failure to check.
// It writes its report to w.
func verify(w io.Writer, src string, parts []string) (ok bool, err error) {
	table, err := readTable(filepath.Join(src, gradeScript))
	if err != nil {
		return false, err
	}
	ok = true
	for _, part := range parts {
		partOK, err := verifyPart(w, src, part, table)
		if err != nil {
			return false, err
		}
		ok = ok && partOK
	}
	if ok {
		fmt.Fprintln(w, "\nverify: OK")
	} else {
		fmt.Fprintln(w, "\nverify: FAILED (see above)")
	}
	return ok, nil
}

// verifyPart does verify's checks for one part.
func verifyPart(w io.Writer, src, part string, table []gradedTest) (ok bool, err error) {
	earlier := partOrder[:slices.Index(partOrder, part)]
	kept := "nothing"
	if len(earlier) > 0 {
		kept = strings.Join(earlier, ", ")
	}
	fmt.Fprintf(w, "== Part %s: skeleton keeping the solution of %s\n", part, kept)

	dir, err := os.MkdirTemp("", "handout-verify-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	if err := cutTree(src, dir, set(earlier)); err != nil {
		return false, err
	}

	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		start := time.Now()
		output, err := goCommand(dir, args...).CombinedOutput()
		if err != nil {
			fmt.Fprintf(w, "go %s: FAIL (positions are in the skeleton)\n%s", strings.Join(args, " "), output)
			return false, nil
		}
		fmt.Fprintf(w, "go %s: ok (%.1fs)\n", strings.Join(args, " "), time.Since(start).Seconds())
	}

	var rows []gradedTest
	for _, t := range table {
		if t.part == part {
			rows = append(rows, t)
		}
	}
	if len(rows) == 0 {
		fmt.Fprintf(w, "part %s has no graded tests in %s yet: nothing to run\n", part, gradeScript)
		return true, nil
	}
	present, err := listTests(dir)
	if err != nil {
		return false, err
	}
	if !slices.ContainsFunc(rows, func(t gradedTest) bool { return present[t.name] }) {
		fmt.Fprintf(w, "part %s: none of its graded tests is present yet: nothing to run\n", part)
		return true, nil
	}

	bin := filepath.Join(dir, "graded.test")
	if output, err := goCommand(dir, "test", "-c", "-o", bin, "./"+testPkg).CombinedOutput(); err != nil {
		fmt.Fprintf(w, "go test -c ./%s: FAIL\n%s", testPkg, output)
		return false, nil
	}
	// The skeleton's tests mostly sit in bounded waits, so several run at
	// once even on a small machine.
	results := make([]string, len(rows))
	took := make([]float64, len(rows))
	var g errgroup.Group
	g.SetLimit(verifyParallel)
	for i, t := range rows {
		if !present[t.name] {
			continue
		}
		g.Go(func() error {
			start := time.Now()
			results[i] = runTest(dir, bin, t.name)
			took[i] = time.Since(start).Seconds()
			return nil
		})
	}
	g.Wait()

	ok = true
	for i, t := range rows {
		switch {
		case !present[t.name]:
			fmt.Fprintf(w, "%s: not present, skipped\n", t.name)
		case results[i] == "fail":
			fmt.Fprintf(w, "%s: FAIL on skeleton (good) (%.1fs)\n", t.name, took[i])
		default:
			ok = false
			fmt.Fprintf(w, "%s: %s on skeleton (BAD: this test does not test part %s) (%.1fs)\n",
				t.name, strings.ToUpper(results[i]), part, took[i])
		}
	}
	return ok, nil
}

// goCommand returns a command that runs the go tool with args in dir,
// offline: modules come from the module cache only.
func goCommand(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"),
		"GOPROXY=off",
		"GOWORK=off",
	)
	return cmd
}

// listTests returns the set of tests in the skeleton dir's test package,
// which may not exist (yet).
func listTests(dir string) (map[string]bool, error) {
	tests := make(map[string]bool)
	files, err := filepath.Glob(filepath.Join(dir, testPkg, "*_test.go"))
	if err != nil || len(files) == 0 {
		return tests, err
	}
	output, err := goCommand(dir, "test", "-list", ".", "./"+testPkg).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("go test -list ./%s: %v\n%s%s", testPkg, err, output, exit.Stderr)
		}
		return nil, err
	}
	for line := range strings.Lines(string(output)) {
		if name := strings.TrimSpace(line); strings.HasPrefix(name, "Test") {
			tests[name] = true
		}
	}
	return tests, nil
}

// verifyParallel is how many skeleton tests run at once.
const verifyParallel = 4

// runTest runs test name of the compiled skeleton test binary bin once and
// returns its result: "pass", "fail" or "skip". A run that fails in any way,
// such as by timing out, counts as "fail".
func runTest(dir, bin, name string) string {
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.count=1", "-test.v",
		"-test.timeout="+testTimeout.String())
	cmd.Dir = filepath.Join(dir, testPkg)
	output, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		return "fail"
	case strings.Contains(string(output), "--- SKIP: "+name):
		return "skip"
	default:
		return "pass"
	}
}
