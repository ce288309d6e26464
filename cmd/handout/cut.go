package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// markerPrefix starts every marker line; a marker line is one whose text,
// with surrounding white space trimmed, starts with it.
const markerPrefix = "//lab:"

// cut returns the skeleton of the Go source file src, named name in error
// messages. Each region between a "//lab:begin PART" line and the next
// "//lab:end" line becomes a "// Your code here (PART)." line followed by
// the region's "//lab:stub CODE" lines turned into CODE, unless keep[PART]
// is set, in which case the region keeps its solution lines and loses only
// its marker and stub lines.
//
// A file without markers is returned unchanged. Otherwise the imports that
// the cut left unused are removed and the result is gofmt'd.
func cut(name string, src []byte, keep map[string]bool) ([]byte, error) {
	out, changed, err := cutRegions(name, src, keep)
	if err != nil || !changed {
		return src, err
	}
	out, err = removeUnusedImports(name, src, out)
	if err != nil {
		return nil, err
	}
	formatted, err := format.Source(out)
	if err != nil {
		return nil, fmt.Errorf("%s: the cut file does not parse: %v", name, err)
	}
	return formatted, nil
}

// cutRegions does the line-by-line work of cut. It reports whether src
// had any marker line.
func cutRegions(name string, src []byte, keep map[string]bool) (out []byte, changed bool, err error) {
	var (
		buf      bytes.Buffer
		inRegion bool
		part     string // the open region's part
		keeping  bool   // whether the open region keeps its solution lines
		begun    int    // line number of the open region's begin marker
	)
	lines := strings.SplitAfter(string(src), "\n")
	for i, line := range lines {
		lineno := i + 1
		text := strings.TrimSpace(line)
		if !strings.HasPrefix(text, markerPrefix) {
			if !inRegion || keeping {
				buf.WriteString(line)
			}
			continue
		}

		changed = true
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		directive, arg := splitMarker(text)
		switch directive {
		case "begin":
			if inRegion {
				return nil, false, fmt.Errorf("%s:%d: %s inside the region begun at line %d (regions may not nest)",
					name, lineno, text, begun)
			}
			if !slices.Contains(partOrder, arg) {
				return nil, false, fmt.Errorf("%s:%d: %s: want one part among %s",
					name, lineno, text, strings.Join(partOrder, " "))
			}
			inRegion, part, keeping, begun = true, arg, keep[arg], lineno
			if !keeping {
				fmt.Fprintf(&buf, "%s// Your code here (%s).\n", indent, part)
			}
		case "stub":
			if !inRegion {
				return nil, false, fmt.Errorf("%s:%d: %s outside any region", name, lineno, text)
			}
			if !keeping {
				buf.WriteString(indent + arg + "\n")
			}
		case "end":
			if !inRegion {
				return nil, false, fmt.Errorf("%s:%d: %s outside any region", name, lineno, text)
			}
			if arg != "" {
				return nil, false, fmt.Errorf("%s:%d: %s: want nothing after %send", name, lineno, text, markerPrefix)
			}
			inRegion = false
		default:
			return nil, false, fmt.Errorf("%s:%d: unknown marker %s (want %sbegin, %sstub or %send)",
				name, lineno, text, markerPrefix, markerPrefix, markerPrefix)
		}
	}
	if inRegion {
		return nil, false, fmt.Errorf("%s:%d: %sbegin %s is never closed by %send",
			name, begun, markerPrefix, part, markerPrefix)
	}
	return buf.Bytes(), changed, nil
}

// splitMarker splits the trimmed marker line text, such as
// "//lab:stub return false", into its directive ("stub") and the argument
// that follows the first blank ("return false").
func splitMarker(text string) (directive, arg string) {
	rest := strings.TrimPrefix(text, markerPrefix)
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		return rest[:i], strings.TrimSpace(rest[i+1:])
	}
	return rest, ""
}

// removeUnusedImports returns after, the cut version of the Go file
// before, without the imports that after no longer uses although before
// did. Comparing with before keeps any import whose package name is
// guessed wrongly: it looks unused in both versions, and so is kept.
// Blank (_) and dot (.) imports are always kept.
func removeUnusedImports(name string, before, after []byte) ([]byte, error) {
	fset := token.NewFileSet()
	orig, err := parser.ParseFile(fset, name, before, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	cutFile, err := parser.ParseFile(fset, name, after, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("%s: the cut file does not parse: %v", name, err)
	}
	usedBefore, usedAfter := qualifiers(orig), qualifiers(cutFile)

	// Byte ranges [start, end) of after to delete, in increasing order.
	type span struct{ start, end int }
	var dead []span
	offset := func(p token.Pos) int { return fset.Position(p).Offset }

	for _, decl := range cutFile.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.IMPORT {
			continue
		}
		var unused []*ast.ImportSpec
		for _, spec := range gen.Specs {
			imp := spec.(*ast.ImportSpec)
			n := importName(imp)
			if n != "_" && n != "." && usedBefore[n] && !usedAfter[n] {
				unused = append(unused, imp)
			}
		}
		switch {
		case len(unused) == 0:
		case len(unused) == len(gen.Specs):
			start := gen.Pos()
			if gen.Doc != nil {
				start = gen.Doc.Pos()
			}
			dead = append(dead, span{offset(start), offset(gen.End())})
		default:
			for _, imp := range unused {
				start, end := imp.Pos(), imp.End()
				if imp.Doc != nil {
					start = imp.Doc.Pos()
				}
				if imp.Comment != nil {
					end = imp.Comment.End()
				}
				dead = append(dead, span{offset(start), offset(end)})
			}
		}
	}

	// Delete back to front, so that earlier offsets stay valid.
	out := slices.Clone(after)
	for _, d := range slices.Backward(dead) {
		start, end := widenToLine(out, d.start, d.end)
		out = slices.Delete(out, start, end)
	}
	return out, nil
}

// widenToLine widens the byte range [start, end) of src over the blanks
// and any semicolon that follow it, and, if nothing else is on its lines,
// over the whole lines, so that deleting it leaves no debris.
func widenToLine(src []byte, start, end int) (int, int) {
	for end < len(src) && (src[end] == ' ' || src[end] == '\t' || src[end] == ';') {
		end++
	}
	lineStart := start
	for lineStart > 0 && (src[lineStart-1] == ' ' || src[lineStart-1] == '\t') {
		lineStart--
	}
	if (lineStart == 0 || src[lineStart-1] == '\n') && end < len(src) && src[end] == '\n' {
		return lineStart, end + 1
	}
	return start, end
}

// qualifiers returns the set of identifiers used as X in a selector
// expression X.Sel in f: the package names that f may refer to.
func qualifiers(f *ast.File) map[string]bool {
	used := make(map[string]bool)
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	return used
}

// importName returns the name by which the file refers to the package
// that imp imports: its explicit name, or else the name guessed from the
// import path as goimports does ("math/rand/v2" is rand, "go-foo" is foo,
// "yaml.v3" is yaml).
func importName(imp *ast.ImportSpec) string {
	if imp.Name != nil {
		return imp.Name.Name
	}
	importPath, err := strconv.Unquote(imp.Path.Value)
	if err != nil {
		return ""
	}
	base := path.Base(importPath)
	if len(base) > 1 && base[0] == 'v' {
		if _, err := strconv.Atoi(base[1:]); err == nil && path.Dir(importPath) != "." {
			base = path.Base(path.Dir(importPath))
		}
	}
	base = strings.TrimPrefix(base, "go-")
	if i := strings.IndexFunc(base, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_'
	}); i >= 0 {
		base = base[:i]
	}
	return base
}
