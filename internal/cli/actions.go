package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
)

func actionsCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "actions",
		Usage:     "the action catalogue: parameters, outputs, AWS calls, IAM permissions",
		ArgsUsage: "[NAME]",
		Flags:     []cli.Flag{formatFlag("text", "text", "json")},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 0, 1, "[NAME] [--format text|json]"); err != nil {
				return err
			}
			format, err := checkFormat(c, "text", "json")
			if err != nil {
				return err
			}
			reg := st.registry(c.Context, false)
			var specs []engine.ActionSpec
			if name := c.Args().First(); name != "" {
				a, ok := reg.Lookup(name)
				if !ok {
					return usageErrorf("no action %q; the catalogue is: %s", name, strings.Join(reg.Names(), ", "))
				}
				specs = append(specs, a.Spec())
			} else {
				for _, n := range reg.Names() {
					a, _ := reg.Lookup(n)
					specs = append(specs, a.Spec())
				}
			}
			if format == "json" {
				enc := json.NewEncoder(st.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(specs)
			}
			if c.NArg() == 0 {
				return writeCatalogue(st.stdout, specs)
			}
			return writeAction(st.stdout, specs[0])
		},
	}
}

func writeCatalogue(w io.Writer, specs []engine.ActionSpec) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tMUTATING\tSUMMARY")
	for _, s := range specs {
		fmt.Fprintf(tw, "%s\t%v\t%s\n", s.Name, s.Mutating, s.Summary)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\n`firebreak actions NAME` shows an action's parameters, outputs, calls and permissions")
	return err
}

func writeAction(w io.Writer, s engine.ActionSpec) error {
	fmt.Fprintf(w, "%s: %s\nmutating: %v\n\nparameters:\n", s.Name, s.Summary, s.Mutating)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range s.Params {
		req := ""
		if p.Required {
			req = "required"
		} else if p.Default != nil {
			req = "default " + engine.Format(p.Default)
		}
		if len(p.Enum) > 0 {
			req = strings.TrimSpace(req + " one of " + strings.Join(p.Enum, "|"))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Name, p.Type, req, p.Doc)
	}
	tw.Flush()
	fmt.Fprintln(w, "\noutputs:")
	for _, o := range s.Outputs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.Name, o.Type, o.Doc)
	}
	tw.Flush()
	writeList(w, "calls", s.Calls)
	writeList(w, "IAM permissions", s.Permissions)
	return nil
}

func writeList(w io.Writer, title string, items []string) {
	fmt.Fprintf(w, "\n%s:\n", title)
	if len(items) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, it := range items {
		fmt.Fprintf(w, "  %s\n", it)
	}
}
