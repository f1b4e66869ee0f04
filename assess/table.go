package assess

import (
	"bufio"
	"fmt"
	"io"
	"slices"
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
// ids), then a summary line. A check's failures that say the same of the
// same resource in several regions are one row naming the regions; how to
// fix them follows the family's table, once per check (a command that
// differs only by region becomes one loop over the regions). Passes are
// counted, and listed only with all.
func writeTable(w io.Writer, rep *Report, o WriteOptions) error {
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
		writeFamily(bw, f, byFamily[f], o)
	}
	s := rep.Summary
	fmt.Fprintf(bw, "\n%d pass, %d fail (%d high), %d error (%d high could not run) in %s\n", s.Pass, s.Fail, s.HighFailed, s.Error, s.HighErrored, strings.Join(rep.Regions, ", "))
	return bw.Flush()
}

// row is one line of a family's table: results of one check that say the
// same of the same resource, in one or more regions.
type row struct {
	first   Result
	regions []string
	fixes   []Result
}

// rows groups rs (sorted by check, region, resource) into rows, in order
// of first appearance; passes are left out unless all.
func rows(rs []Result, all bool) []*row {
	var out []*row
	index := map[string]*row{}
	for _, r := range rs {
		if r.Status == Pass && !all {
			continue
		}
		key := strings.Join([]string{r.CheckID, string(r.Status), r.Resource, r.Reason}, "\x00")
		if g, ok := index[key]; ok {
			g.regions = append(g.regions, r.Region)
			g.fixes = append(g.fixes, r)
			continue
		}
		g := &row{first: r, regions: []string{r.Region}, fixes: []Result{r}}
		index[key] = g
		out = append(out, g)
	}
	return out
}

func writeFamily(w io.Writer, family string, rs []Result, o WriteOptions) {
	fmt.Fprintln(w, paint(o.Color, ansiBold, strings.ToUpper(family)))
	passes := 0
	for _, r := range rs {
		if r.Status == Pass {
			passes++
		}
	}
	if shown := rows(rs, o.All); len(shown) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STATUS\tSEVERITY\tCHECK\tREGION\tRESOURCE\tREASON")
		for _, g := range shown {
			r := g.first
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", statusCell(r.Status, o.Color), r.Severity, r.CheckID, strings.Join(g.regions, ","), oneLine(r.Resource), oneLine(r.Reason))
		}
		tw.Flush()
	}
	writeFixes(w, rs)
	if passes > 0 && !o.All {
		fmt.Fprintf(w, "  %d passed (--all lists them)\n", passes)
	}
}

// writeFixes prints how to fix each check's failures, once per check: the
// distinct commands, where commands that differ only by region are one
// loop over those regions.
func writeFixes(w io.Writer, rs []Result) {
	type fix struct {
		cmd     string // with $region for the region, when it varies
		regions []string
	}
	var checks []string
	byCheck := map[string][]*fix{}
	for _, r := range rs {
		if r.Status == Pass || r.Remediation == "" {
			continue
		}
		cmd := oneLine(r.Remediation)
		if r.Region != "global" && r.Region != "" {
			cmd = strings.ReplaceAll(cmd, r.Region, "$region")
		}
		if _, ok := byCheck[r.CheckID]; !ok {
			checks = append(checks, r.CheckID)
		}
		var f *fix
		for _, have := range byCheck[r.CheckID] {
			if have.cmd == cmd {
				f = have
			}
		}
		if f == nil {
			f = &fix{cmd: cmd}
			byCheck[r.CheckID] = append(byCheck[r.CheckID], f)
		}
		if !slices.Contains(f.regions, r.Region) {
			f.regions = append(f.regions, r.Region)
		}
	}
	if len(checks) == 0 {
		return
	}
	fmt.Fprintln(w, "  to fix:")
	for _, id := range checks {
		fmt.Fprintf(w, "  - %s:\n", id)
		for _, f := range byCheck[id] {
			switch {
			case !strings.Contains(f.cmd, "$region"):
				fmt.Fprintf(w, "      %s\n", f.cmd)
			case len(f.regions) == 1:
				fmt.Fprintf(w, "      %s\n", strings.ReplaceAll(f.cmd, "$region", f.regions[0]))
			default:
				fmt.Fprintf(w, "      for region in %s; do %s; done\n", strings.Join(f.regions, " "), strings.ReplaceAll(f.cmd, "$region", `"$region"`))
			}
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
