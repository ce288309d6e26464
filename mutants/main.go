// Command mutants is vrlab's mutation tester: it applies each seeded bug of
// the catalogue (catalogue.go) to a temporary copy of the tree, one at a
// time, and runs the graded tests that must catch it, several times. A test
// suite has teeth only if every mutant fails a graded test of its part in
// every run (VR-PROTOCOL.md §9).
//
//	go run ./mutants                     every mutant, 3 runs each, its catching tests
//	go run ./mutants -part A -n 1        part A's mutants, one run each
//	go run ./mutants -run 'svc' -full    also run every graded test of the part once, to see all that catch it
//	go run ./mutants -check              only check that every mutant still applies (no stale snippets)
//	go run ./mutants -o report.md        also write the report as a Markdown table
//	go run ./mutants -without '^TestSearch'   which mutants only the search tests catch (they escape here)
//
// A mutant is a source rewrite: in a file, an exact snippet (which must occur
// exactly once) and its replacement. A snippet that no longer matches the code
// is stale, and the tool fails: update the catalogue with the code. The
// catalogue is for instructors: the handout cutter leaves this directory out
// of the student skeleton.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	var (
		runs    = flag.Int("n", 3, "runs of the catching tests per mutant; each run must fail")
		jobs    = flag.Int("j", 1, "mutants tested at a time (the tests are timing-sensitive: keep it at 1 on 2 cores)")
		parts   = flag.String("part", "", "comma-separated parts (A,B,C,D,KV,SC,E,F); default: all")
		match   = flag.String("run", "", "only mutants whose name matches this `regexp`")
		full    = flag.Bool("full", false, "also run every graded test of the mutant's part once and list all that fail")
		check   = flag.Bool("check", false, "only check that every mutant applies; run nothing")
		list    = flag.Bool("list", false, "list the catalogue and exit")
		mdOut   = flag.String("o", "", "also write the report as Markdown to `file`")
		timeout = flag.Duration("t", 3*time.Minute, "limit for one run of a mutant's tests")
		without = flag.String("without", "", "leave the graded tests matching this `regexp` out of every mutant's catching tests (and of -full), e.g. '^TestSearch' to see which mutants only the search tests catch")
	)
	flag.Parse()
	if flag.NArg() > 0 || *runs < 1 || *jobs < 1 {
		flag.Usage()
		os.Exit(2)
	}
	root, err := repoRoot()
	if err != nil {
		fatal(err)
	}
	table, err := readGradingTable(filepath.Join(root, "grade.sh"))
	if err != nil {
		fatal(err)
	}
	sel, err := selectMutants(catalogue, *parts, *match)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutants:", err)
		os.Exit(2)
	}
	if *list {
		for _, m := range sel {
			fmt.Printf("%-26s %-3s %-40s caught by %s\n", m.Name, m.Part, m.Breaks, strings.Join(m.Tests, ", "))
		}
		return
	}
	bad := 0
	for _, m := range sel {
		if err := m.validate(table); err != nil {
			fmt.Fprintln(os.Stderr, "mutants:", err)
			bad++
		}
		if _, err := m.apply(os.DirFS(root)); err != nil {
			fmt.Fprintln(os.Stderr, "mutants:", err)
			bad++
		}
	}
	if bad > 0 {
		fmt.Fprintf(os.Stderr, "mutants: %d catalogue problems; fix the catalogue (mutants/catalogue.go) to match the code\n", bad)
		os.Exit(1)
	}
	if *check {
		fmt.Printf("%d mutants apply cleanly\n", len(sel))
		return
	}
	if *without != "" {
		if sel, table, err = leaveOut(sel, table, *without); err != nil {
			fmt.Fprintln(os.Stderr, "mutants:", err)
			os.Exit(2)
		}
	}

	results := make([]result, len(sel))
	var wg sync.WaitGroup
	sem := make(chan struct{}, *jobs)
	var mu sync.Mutex
	start := time.Now()
	for i, m := range sel {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = test(root, m, table, *runs, *full, *timeout)
			mu.Lock()
			fmt.Println(results[i].line())
			mu.Unlock()
		}()
	}
	wg.Wait()
	rep := report(results, *runs, time.Since(start))
	fmt.Print("\n" + rep.text)
	if *mdOut != "" {
		if err := os.WriteFile(*mdOut, []byte(rep.markdown), 0o644); err != nil {
			fatal(err)
		}
	}
	if rep.escaped > 0 {
		os.Exit(1)
	}
}

// result is what happened to one mutant.
type result struct {
	m        Mutant
	caught   int      // runs in which a catching test failed
	runs     int      // runs made
	by       []string // the tests that failed, over all runs
	allBy    []string // -full: every graded test of the part that failed
	err      error    // the mutant could not be tested (does not build, …)
	duration time.Duration
}

func (r result) escaped() bool { return r.err != nil || r.caught < r.runs }

func (r result) line() string {
	verdict := fmt.Sprintf("caught %d/%d", r.caught, r.runs)
	if r.err != nil {
		verdict = "ERROR: " + r.err.Error()
	} else if r.escaped() {
		verdict = fmt.Sprintf("ESCAPED: caught in %d of %d runs", r.caught, r.runs)
	}
	s := fmt.Sprintf("%-26s %-3s %-22s by %-34s (%s)", r.m.Name, r.m.Part, verdict, strings.Join(r.by, ","), r.duration.Round(time.Second))
	if len(r.allBy) > 0 {
		s += "\n    every failing graded test of part " + r.m.Part + ": " + strings.Join(r.allBy, ", ")
	}
	return s
}

// test applies m to a copy of the tree and runs its catching tests.
func test(root string, m Mutant, table gradingTable, runs int, full bool, timeout time.Duration) (res result) {
	t0 := time.Now()
	res = result{m: m, runs: runs}
	defer func() { res.duration = time.Since(t0) }()
	dir, err := os.MkdirTemp("", "vrmutant-"+m.Name+"-")
	if err != nil {
		res.err = err
		return res
	}
	defer os.RemoveAll(dir)
	if err := copyTree(root, dir); err != nil {
		res.err = err
		return res
	}
	changed, err := m.apply(os.DirFS(root))
	if err != nil {
		res.err = err
		return res
	}
	for file, text := range changed {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			res.err = err
			return res
		}
	}
	bin := filepath.Join(dir, "tests.test")
	if out, err := goCmd(dir, "test", "-c", "-o", bin, "./tests").CombinedOutput(); err != nil {
		res.err = fmt.Errorf("does not build: %s", firstLines(string(out), 3))
		return res
	}
	seen := map[string]bool{}
	for i := 0; i < runs; i++ {
		failed := runTests(dir, bin, m.Tests, true, timeout)
		if len(failed) > 0 {
			res.caught++
		}
		for _, f := range failed {
			if !seen[f] {
				seen[f] = true
				res.by = append(res.by, f)
			}
		}
	}
	if full {
		res.allBy = runTests(dir, bin, table.testsOf(m.Part), false, timeout)
	}
	return res
}

var failLine = regexp.MustCompile(`^--- FAIL: (Test\w+)`)

// runTests runs tests in the built test binary and returns those that failed
// (a crash of the binary counts as a failure of the test it was running).
func runTests(dir, bin string, tests []string, failfast bool, timeout time.Duration) []string {
	args := []string{"-test.run", "^(" + strings.Join(tests, "|") + ")$", "-test.count=1", "-test.v", "-test.timeout", timeout.String()}
	if failfast {
		args = append(args, "-test.failfast")
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Join(dir, "tests")
	cmd.Env = append(os.Environ(), "VRDEBUG=")
	out, err := cmd.CombinedOutput()
	var failed []string
	running := ""
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "=== RUN   ") {
			running = strings.Fields(strings.TrimPrefix(line, "=== RUN   "))[0]
		}
		if g := failLine.FindStringSubmatch(line); g != nil && !slices.Contains(failed, g[1]) {
			failed = append(failed, g[1])
		}
	}
	if err != nil && len(failed) == 0 {
		// The binary died (a panic in a Replica, a timeout): blame what ran.
		failed = append(failed, running+"(crash)")
	}
	return failed
}

func goCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	return cmd
}

// copyTree copies the module at root to dir, without .git, grade-logs and
// the separate bench module.
func copyTree(root, dir string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			switch rel {
			case ".git", "grade-logs", "bench", "mutants":
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if !d.Type().IsRegular() || rel == "go.work" || rel == "go.work.sum" {
			return nil
		}
		return copyFile(p, filepath.Join(dir, rel))
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "grade.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("mutants: run it inside the vrlab repository (no grade.sh found above the current directory)")
		}
		dir = parent
	}
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[:min(n, len(lines))], " | ")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mutants:", err)
	os.Exit(1)
}
