package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/firebreak-ir/firebreak/findings"
)

// writeCoverage prints what `list --coverage` says: per GuardDuty family,
// the playbooks whose globs answer it and the types none answers, with
// why; as a table, JSON, or the markdown table the README holds.
func writeCoverage(st *cliState, cov []findings.Coverage, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(st.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cov)
	case "markdown":
		_, err := io.WriteString(st.stdout, coverageMarkdown(cov))
		return err
	}
	tw := tabwriter.NewWriter(st.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FAMILY\tTYPES\tANSWERED\tPLAYBOOKS")
	for _, c := range cov {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", c.Family, c.Types, c.Covered, playbookList(c, "%s (%d)"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(st.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nNOT ANSWERED\tTYPES\tWHY")
	for _, c := range cov {
		for _, g := range gapsOf(c) {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", g.glob, g.n, g.why)
		}
	}
	return tw.Flush()
}

func playbookList(c findings.Coverage, format string) string {
	if len(c.Playbooks) == 0 {
		return "-"
	}
	parts := make([]string, len(c.Playbooks))
	for i, p := range c.Playbooks {
		parts[i] = fmt.Sprintf(format, p.Name, p.Types)
	}
	return strings.Join(parts, ", ")
}

// gap is the uncovered types of one reason, counted.
type gap struct {
	glob, why string
	n         int
}

// gapsOf groups a family's uncovered types by their gap, in order; a type
// without one is shown alone, as "no playbook".
func gapsOf(c findings.Coverage) []gap {
	var out []gap
	for _, u := range c.Uncovered {
		glob, why := u.Glob, u.Why
		if glob == "" {
			glob, why = u.Type, "no playbook"
		}
		if n := len(out); n > 0 && out[n-1].glob == glob {
			out[n-1].n++
			continue
		}
		out = append(out, gap{glob, why, 1})
	}
	return out
}

// coverageMarkdown is the coverage as the README's table.
func coverageMarkdown(cov []findings.Coverage) string {
	var b strings.Builder
	b.WriteString("| GuardDuty family | types | answered by | not answered, and why |\n|---|---|---|---|\n")
	for _, c := range cov {
		var not []string
		for _, g := range gapsOf(c) {
			not = append(not, fmt.Sprintf("`%s` (%d): %s", g.glob, g.n, g.why))
		}
		if len(not) == 0 {
			not = []string{"—"}
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", c.Family, c.Types, playbookList(c, "`%s` (%d)"), strings.Join(not, "; "))
	}
	return b.String()
}
