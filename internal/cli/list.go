package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

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
	tw := tabwriter.NewWriter(st.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tINCIDENT\tSOURCE\tDESCRIPTION")
	for _, e := range entries {
		src := e.Source
		if len(e.Shadows) > 0 {
			src += " (shadows " + strings.Join(e.Shadows, ", ") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Name, e.Version, e.Incident, src, firstLine(e.Description))
	}
	return tw.Flush()
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
