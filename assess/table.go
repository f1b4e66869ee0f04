package assess

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

const (
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

// writeTable prints one table a family (in the order of the sorted check
// ids), each followed by how to fix what failed, then a summary line.
func writeTable(w io.Writer, rep *Report, color bool) error {
	bw := bufio.NewWriter(w)
	var families []string
	byFamily := map[string][]Result{}
	for _, r := range rep.Results {
		if _, ok := byFamily[r.Family]; !ok {
			families = append(families, r.Family)
		}
		byFamily[r.Family] = append(byFamily[r.Family], r)
	}
	for i, f := range families {
		if i > 0 {
			fmt.Fprintln(bw)
		}
		writeFamily(bw, f, byFamily[f], color)
	}
	s := rep.Summary
	fmt.Fprintf(bw, "\n%d pass, %d fail (%d high), %d error (%d high could not run) in %s\n", s.Pass, s.Fail, s.HighFailed, s.Error, s.HighErrored, strings.Join(rep.Regions, ", "))
	return bw.Flush()
}

func writeFamily(w io.Writer, family string, rs []Result, color bool) {
	fmt.Fprintln(w, paint(color, ansiBold, strings.ToUpper(family)))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tSEVERITY\tCHECK\tREGION\tRESOURCE\tREASON")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", statusCell(r.Status, color), r.Severity, r.CheckID, r.Region, oneLine(r.Resource), oneLine(r.Reason))
	}
	tw.Flush()
	n := 0
	for _, r := range rs {
		if r.Status != Pass && r.Remediation != "" {
			if n == 0 {
				fmt.Fprintln(w, "  to fix:")
			}
			n++
			fmt.Fprintf(w, "  - %s %s:\n      %s\n", r.CheckID, oneLine(r.Resource), oneLine(r.Remediation))
		}
	}
}

// statusCell pads before colouring, so every cell carries the same escape
// bytes and tabwriter's columns stay aligned.
func statusCell(s Status, color bool) string {
	text := fmt.Sprintf("%-5s", strings.ToUpper(string(s)))
	switch s {
	case Pass:
		return paint(color, ansiGreen, text)
	case Fail:
		return paint(color, ansiRed, text)
	}
	return paint(color, ansiYellow, text)
}

func paint(color bool, code, s string) string {
	if !color {
		return s
	}
	return code + s + ansiReset
}

// oneLine keeps a row on one line and strips control characters that a
// resource name or an AWS message could carry to the terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || r == '\r' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
