// Command handout cuts the student handout (the skeleton) out of the
// reference solution, and checks that the skeleton is a fair starting
// point.
//
// The solution marks the code that students write with regions:
//
//	func (r *Replica) quorumOK(n int) bool {
//		//lab:begin A
//		return n >= r.f
//		//lab:stub return false
//		//lab:end
//	}
//
// In the skeleton, each region becomes a "// Your code here (A)." line
// followed by its stub lines, without their "//lab:stub " prefix. Imports
// that the cut leaves unused are removed, and cut files are gofmt'd. Only
// .go files are cut; every other file is copied as it is.
//
// Usage:
//
//	go run ./cmd/handout -out DIR [-keep A,B] [-src .] [-force]
//	go run ./cmd/handout -verify [-parts A,B] [-src .]
//
// The first form writes the skeleton to DIR, keeping the solution of the
// parts named by -keep. The second checks, for each part X named by -parts
// (default: all), the skeleton that keeps the parts before X (a student
// working on X has finished them): that it builds and vets, and that each
// of X's graded tests, as listed in grade.sh's table, fails on it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// partOrder lists the lab's parts in the order students do them.
var partOrder = []string{"A", "B", "C", "D", "KV", "SC", "E", "F"}

func main() {
	var (
		out    = flag.String("out", "", "write the skeleton to directory `DIR`")
		keep   = flag.String("keep", "", "comma-separated `parts` whose solution the skeleton keeps")
		src    = flag.String("src", ".", "the reference solution's root `directory`")
		force  = flag.Bool("force", false, "write into -out even if it is not empty")
		check  = flag.Bool("verify", false, "check that the skeleton builds, vets and fails every graded test")
		vparts = flag.String("parts", "", "with -verify, the comma-separated `parts` to check (default: all)")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage:\n"+
			"  go run ./cmd/handout -out DIR [-keep A,B] [-src .] [-force]\n"+
			"  go run ./cmd/handout -verify [-parts A,B] [-src .]\n\nflags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		usageError("unexpected arguments: %s", strings.Join(flag.Args(), " "))
	}

	if *check {
		if *out != "" || *keep != "" || *force {
			usageError("-verify takes no -out, -keep or -force")
		}
		parts, err := parseParts(*vparts)
		if err != nil {
			usageError("-parts: %v", err)
		}
		if len(parts) == 0 {
			parts = partOrder
		}
		ok, err := verify(os.Stdout, *src, parts)
		if err != nil {
			fatal(err)
		}
		if !ok {
			os.Exit(1)
		}
		return
	}

	if *out == "" {
		usageError("want -out DIR or -verify")
	}
	if *vparts != "" {
		usageError("-parts goes with -verify")
	}
	keepParts, err := parseParts(*keep)
	if err != nil {
		usageError("-keep: %v", err)
	}
	if err := checkOutDir(*src, *out, *force); err != nil {
		fatal(err)
	}
	if err := cutTree(*src, *out, set(keepParts)); err != nil {
		fatal(err)
	}
	fmt.Printf("handout: wrote the skeleton to %s\n", *out)
}

func usageError(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "handout: "+format+"\n", args...)
	flag.Usage()
	os.Exit(2)
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "handout: %v\n", err)
	os.Exit(1)
}

// parseParts parses a comma-separated list of parts, in any case, into
// their canonical names in the order of partOrder.
func parseParts(list string) ([]string, error) {
	want := make(map[string]bool)
	for p := range strings.SplitSeq(list, ",") {
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if !slices.Contains(partOrder, p) {
			return nil, fmt.Errorf("unknown part %q (parts: %s)", p, strings.Join(partOrder, " "))
		}
		want[p] = true
	}
	var parts []string
	for _, p := range partOrder {
		if want[p] {
			parts = append(parts, p)
		}
	}
	return parts, nil
}

// set returns the set of the strings in list.
func set(list []string) map[string]bool {
	m := make(map[string]bool)
	for _, s := range list {
		m[s] = true
	}
	return m
}

// checkOutDir checks that out can take a skeleton of src: that it is
// neither src nor a directory that holds src, and that it is empty or
// absent, unless force is set.
func checkOutDir(src, out string, force bool) error {
	absSrc, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	if absOut == absSrc || isWithin(absSrc, absOut) {
		return fmt.Errorf("-out %s must not be the source tree %s or hold it", out, src)
	}
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case len(entries) > 0 && !force:
		return fmt.Errorf("%s exists and is not empty (use -force to write into it anyway)", out)
	}
	return nil
}

// isWithin reports whether the absolute path p lies within the absolute
// directory dir.
func isWithin(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// skipDirs are the directories, relative to the source root, that the
// skeleton leaves out: besides these, .git anywhere is left out. The
// mutant catalogue would hand students a list of bugs, with their fixes.
var skipDirs = []string{"grade-logs", "mutants"} // mutants: the catalogue of seeded bugs is for instructors

// cutTree writes the skeleton of the tree src to the directory out: Go
// files are cut (see cut), other files copied as they are. It reports the
// errors of every file that could not be cut, not just the first.
func cutTree(src, out string, keep map[string]bool) error {
	absOut, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	var cutErrs []error
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(out, rel)

		if d.IsDir() {
			abs, err := filepath.Abs(p)
			if err != nil {
				return err
			}
			if d.Name() == ".git" || slices.Contains(skipDirs, filepath.ToSlash(rel)) || abs == absOut {
				return filepath.SkipDir
			}
			return os.MkdirAll(dst, 0o755)
		}

		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case !d.Type().IsRegular():
			return nil // sockets, pipes and devices have no place in a handout
		}

		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".go") {
			data, err = cut(filepath.ToSlash(p), data, keep)
			if err != nil {
				cutErrs = append(cutErrs, err)
				return nil
			}
		}
		return os.WriteFile(dst, data, info.Mode().Perm())
	})
	if err != nil {
		return err
	}
	return errors.Join(cutErrs...)
}
