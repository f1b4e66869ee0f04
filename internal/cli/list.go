package cli

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/findings"
)

func listCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the playbooks found: name, version, incident, description, source",
		Flags: []cli.Flag{
			formatFlag("table", "table", "json", "markdown"),
			&cli.StringFlag{Name: "finding", Usage: "only the playbooks that answer the finding in `FILE`"},
			&cli.BoolFlag{Name: "coverage", Usage: "GuardDuty's finding families and the playbooks whose findings: globs answer each (markdown: the README's table)"},
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 0, 0, "[--format table|json] [--finding FILE | --coverage]"); err != nil {
				return err
			}
			format, err := checkFormat(c, "table", "json", "markdown")
			if err != nil {
				return err
			}
			if format == "markdown" && !c.Bool("coverage") {
				return usageErrorf("--format markdown is for --coverage")
			}
			if c.Bool("coverage") && c.String("finding") != "" {
				return usageErrorf("--coverage and --finding: give one")
			}
			// A broken playbook does not hide the others: they are listed,
			// then its problems are printed and the exit code is 2.
			cat := st.catalog(st.registry(c.Context, false))
			entries, listErr := cat.List()
			switch {
			case c.Bool("coverage"):
				err = writeCoverage(st, findings.CoverageOf(entries), format)
			case c.String("finding") != "":
				if entries, err = answering(st, cat, entries, c.String("finding")); err == nil {
					err = writeEntries(st, entries, format)
				}
			default:
				err = writeEntries(st, entries, format)
			}
			if err != nil {
				return err
			}
			if listErr != nil {
				fmt.Fprintln(st.stderr, listErr)
				return silent{code: exitUsage}
			}
			return nil
		},
	}
}

func writeEntries(st *cliState, entries []loader.Entry, format string) error {
	if format == "json" {
		enc := json.NewEncoder(st.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	rows := [][]string{{"NAME", "VERSION", "INCIDENT", "SOURCE", "DESCRIPTION"}}
	for _, e := range entries {
		src := shortSource(e.Name, e.Source)
		if len(e.Shadows) > 0 {
			var hidden []string
			for _, sh := range e.Shadows {
				hidden = append(hidden, shortSource(e.Name, sh))
			}
			src += " (shadows " + strings.Join(hidden, ", ") + ")"
		}
		rows = append(rows, []string{e.Name, e.Version, e.Incident, src, firstLine(e.Description)})
	}
	for _, line := range fitTable(rows, listWidth, listShrink) {
		fmt.Fprintln(st.stdout, line)
	}
	return nil
}

// listWidth is the width list's table keeps to; --format json has every
// field whole.
const listWidth = 100

// listShrink is the order list's columns give way in, each down to its
// least: the description first, then the incident (the name says much of
// it), the source (cut from the left: its end is the directory or file),
// and the description again.
var listShrink = []shrink{{col: 4, least: 40}, {col: 2, least: 16}, {col: 3, least: 16, left: true}, {col: 4, least: 20}}

// shortSource is a playbook's source as the table shows it: "builtin" or
// the directory when the file is NAME.yaml (the usual case), else whole.
func shortSource(name, src string) string {
	dir, file := path.Split(strings.TrimPrefix(src, "builtin:"))
	if file != name+".yaml" && file != name+".yml" {
		return src
	}
	if strings.HasPrefix(src, "builtin:") {
		return "builtin"
	}
	return dir
}

// shrink is one step of fitting a table: column col may be cut down to
// least runes, from the left when left (keeping its end).
type shrink struct {
	col, least int
	left       bool
}

// fitTable lays rows out in columns two spaces apart and, when they are
// wider than width, cuts columns in the order steps gives (with an
// ellipsis where a cell was cut) until the rows fit or the steps are
// spent.
func fitTable(rows [][]string, width int, steps []shrink) []string {
	const gap = 2
	n := len(rows[0])
	widths := make([]int, n)
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := func() int {
		sum := (n - 1) * gap
		for _, w := range widths {
			sum += w
		}
		return sum
	}
	fromLeft := make([]bool, n)
	for _, st := range steps {
		if over := total() - width; over > 0 && widths[st.col] > st.least {
			widths[st.col] = max(st.least, widths[st.col]-over)
			fromLeft[st.col] = st.left
		}
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if fromLeft[i] {
				c = cutLeft(c, widths[i])
			} else {
				c = cutRight(c, widths[i])
			}
			b.WriteString(c)
			if i < n-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+gap))
			}
		}
		out = append(out, strings.TrimRight(b.String(), " "))
	}
	return out
}

// cutRight keeps the first w runes of s, the last of them an ellipsis
// when s is longer.
func cutRight(s string, w int) string {
	r := []rune(s)
	if len(r) <= w {
		return s
	}
	return string(r[:w-1]) + "…"
}

// cutLeft keeps the last w runes of s, the first of them an ellipsis
// when s is longer.
func cutLeft(s string, w int) string {
	r := []rune(s)
	if len(r) <= w {
		return s
	}
	return "…" + string(r[len(r)-w+1:])
}

// answering keeps the entries that answer the finding in file: their
// globs match its type and its fields give every input. Those whose globs
// match but whose inputs it cannot give are named on stderr, with why.
func answering(st *cliState, cat *loader.Catalog, entries []loader.Entry, file string) ([]loader.Entry, error) {
	f, err := findings.Load(file)
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("--finding: %w", err))
	}
	answers, misfits := findings.Answers(cat, entries, f)
	for _, m := range misfits {
		st.logf("%s matches %s but cannot take its inputs from this finding (give them with -i): %s", m.Name, f.Type(), strings.ReplaceAll(m.Err.Error(), "\n", "; "))
	}
	names := map[string]bool{}
	for _, n := range answers {
		names[n] = true
	}
	var out []loader.Entry
	for _, e := range entries {
		if names[e.Name] {
			out = append(out, e)
		}
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// formatFlag is a command's --format with its allowed values.
func formatFlag(def string, allowed ...string) cli.Flag {
	return &cli.StringFlag{Name: "format", Aliases: []string{"o"}, Value: def, Usage: "output format: " + strings.Join(allowed, ", ")}
}

func checkFormat(c *cli.Context, allowed ...string) (string, error) {
	f := strings.ToLower(c.String("format"))
	for _, a := range allowed {
		if f == a {
			return f, nil
		}
	}
	return "", usageErrorf("--format %q: want one of %s", f, strings.Join(allowed, ", "))
}
