package main

import (
	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine/plan"
)

func planCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show what a run would do, without doing it: waves, critical path, decisions, calls",
		ArgsUsage: "NAME|FILE",
		Flags: append(inputFlags(),
			formatFlag("text", "text", "json", "dot", "mermaid"),
			&cli.BoolFlag{Name: "check", Usage: "also read the live account: resolve targets, test permissions (changes nothing)"},
		),
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, 1, "NAME|FILE [-i k=v ...] [--format text|json|dot|mermaid] [--check]"); err != nil {
				return err
			}
			format, err := checkFormat(c, "text", "json", "dot", "mermaid")
			if err != nil {
				return err
			}
			return st.plan(c, c.Args().First(), format, c.Bool("check"))
		},
	}
}

// plan prints the plan of one playbook. With check, a plan that finds a
// problem (a permission denied, a target not found) ends with exit 1: the
// run would fail. run --dry-run comes here too.
func (st *cliState) plan(c *cli.Context, arg, format string, check bool) error {
	reg := st.registry(c.Context, check)
	pb, err := st.find(reg, arg)
	if err != nil {
		return err
	}
	in, err := readInputs(c)
	if err != nil {
		return err
	}
	inputs, err := in.resolve(pb, in.given)
	if err != nil {
		return err
	}
	p, err := plan.Build(c.Context, reg, pb, inputs, check, plan.WithLogger(st.logger()), plan.WithFinding(in.finding, in.incident))
	if err != nil {
		return err
	}
	switch format {
	case "json":
		err = p.JSON(st.stdout)
	case "dot":
		err = p.Dot(st.stdout)
	case "mermaid":
		err = p.Mermaid(st.stdout)
	default:
		err = p.Text(st.stdout)
	}
	if err != nil {
		return err
	}
	if problems := p.Problems(); check && len(problems) > 0 {
		st.logf("the check found %d problem(s); the run would fail:\n%s", len(problems), joinLines(problems))
		return silent{code: exitFailed}
	}
	return nil
}
