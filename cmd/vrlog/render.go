package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/fatih/color"
)

// sep separates the gutter from the first column, and each column from the
// next.
const sep = " │ "

// topicWidth is the width of the gutter's topic: the longest topic,
// "recovery", fits.
const topicWidth = 8

// topicColors gives each topic its colour. Topics not listed (one a student
// added) are printed uncoloured.
var topicColors = map[string][]color.Attribute{
	// VRDEBUG topics
	"send":     {color.FgBlue},
	"client":   {color.FgCyan},
	"normal":   {color.FgGreen},
	"view":     {color.FgYellow, color.Bold},
	"state":    {color.FgMagenta},
	"recovery": {color.FgRed},
	"ckpt":     {color.FgHiCyan},
	"node":     {color.FgHiBlack},
	// the simulator's own events
	"config":  {color.Bold},
	"deliver": {color.FgHiBlack},
	"drop":    {color.FgRed},
	"crash":   {color.FgHiRed, color.Bold},
	"restart": {color.FgHiGreen, color.Bold},
	"part":    {color.FgHiYellow, color.Bold},
	"heal":    {color.FgHiGreen, color.Bold},
	"done":    {color.Bold},
	"FAIL":    {color.FgHiRed, color.Bold},
}

// A printer lays events out in columns, one per replica shown.
type printer struct {
	w          io.Writer
	cols       []int // the replicas shown, left to right
	width      int   // of each column
	stampWidth int   // of the gutter's time
	colors     map[string]*color.Color
	header     bool // print the column header before the next event
}

func newPrinter(w io.Writer, cols []int, width, stampWidth int, colored bool) *printer {
	p := &printer{w: w, cols: cols, width: width, stampWidth: stampWidth, colors: map[string]*color.Color{}, header: true}
	for topic, attrs := range topicColors {
		c := color.New(attrs...)
		// Set each colour on or off itself, rather than through
		// color.NoColor, which guesses from os.Stdout.
		if colored {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		p.colors[topic] = c
	}
	return p
}

// gutterWidth is the width of the time and topic left of the columns.
func gutterWidth(stampWidth int) int { return stampWidth + 1 + topicWidth }

// spanWidth is the width of all the columns together, separators included:
// the width of an event about no replica.
func (p *printer) spanWidth() int {
	return len(p.cols)*p.width + (len(p.cols)-1)*runeLen(sep)
}

// passThrough prints a line that is not a log line as it is.
func (p *printer) passThrough(s string) {
	fmt.Fprintln(p.w, s)
	if strings.HasPrefix(s, "=== RUN") {
		p.header = true // a new test: name the columns again
	}
}

// printHeader names the columns:
//
//	   time topic    │ R0        │ R1        │ R2
//	─────────────────┼───────────┼───────────┼───────────
//
// A simulator trace's time is a tick.
func (p *printer) printHeader(sim bool) {
	names := make([]string, len(p.cols))
	rules := make([]string, len(p.cols))
	for i, r := range p.cols {
		names[i] = pad(fmt.Sprintf("R%d", r), p.width)
		rules[i] = strings.Repeat("─", p.width)
	}
	time := "time"
	if sim {
		time = "tick"
	}
	gutter := fmt.Sprintf("%*s %-*s", p.stampWidth, time, topicWidth, "topic")
	p.println(gutter + sep + strings.Join(names, sep))
	p.println(strings.Repeat("─", runeLen(gutter)) + "─┼─" + strings.Join(rules, "─┼─"))
}

// print lays out one event: its time and topic in the gutter, its text in its
// replica's column, wrapped to the column's width (or across all the columns,
// for an event about no replica).
func (p *printer) print(e *event) {
	if p.header {
		p.printHeader(e.sim)
		p.header = false
	}
	col := -1 // index in p.cols of the event's column; -1: all of them
	for i, r := range p.cols {
		if r == e.replica {
			col = i
		}
	}
	width := p.width
	if col < 0 {
		width = p.spanWidth()
	}
	c := p.colors[e.topic]
	// cell is text in the topic's colour, padded with blanks to width.
	// The blanks stay uncoloured.
	cell := func(text string, width int) string {
		s := text
		if c != nil && text != "" {
			s = c.Sprint(text)
		}
		return s + strings.Repeat(" ", max(0, width-runeLen(text)))
	}
	for i, text := range wrap(e.text, width) {
		// The time and topic go on the first line only.
		stamp, topic := "", ""
		if i == 0 {
			stamp, topic = e.stamp, e.topic
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%*s %s", p.stampWidth, stamp, cell(topic, topicWidth))
		if col < 0 {
			b.WriteString(sep + cell(text, 0))
		} else {
			for j := range p.cols {
				b.WriteString(sep)
				if j == col {
					b.WriteString(cell(text, p.width))
				} else {
					b.WriteString(strings.Repeat(" ", p.width))
				}
			}
		}
		p.println(b.String())
	}
}

// println prints s without its trailing blanks.
func (p *printer) println(s string) {
	fmt.Fprintln(p.w, strings.TrimRight(s, " "))
}

// wrap breaks s into lines of at most width characters, between words where
// it can, inside a word longer than a line where it must.
func wrap(s string, width int) []string {
	if runeLen(s) <= width {
		return []string{s}
	}
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		for runeLen(word) > width {
			if cur != "" {
				lines = append(lines, cur)
				cur = ""
			}
			n := byteIndex(word, width)
			lines = append(lines, word[:n])
			word = word[n:]
		}
		switch {
		case cur == "":
			cur = word
		case runeLen(cur)+1+runeLen(word) <= width:
			cur += " " + word
		default:
			lines = append(lines, cur)
			cur = word
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// pad fills s with blanks to width characters.
func pad(s string, width int) string {
	return s + strings.Repeat(" ", max(0, width-runeLen(s)))
}

// runeLen is the width of s on a terminal, counting one per character: right
// for the logs' text, including its arrows (→).
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// byteIndex is the index in s of its n-th character.
func byteIndex(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}
