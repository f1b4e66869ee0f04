package cli

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/plan"
)

func planCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show what a run would do, without doing it: waves, critical path, decisions, calls",
		ArgsUsage: "NAME|FILE",
		Flags: append(inputFlags(),
			formatFlag("text", "text", "json", "dot", "mermaid"),
			&cli.BoolFlag{Name: "check", Usage: "also read the live account: resolve targets, test permissions (changes nothing); exit 1 when it finds a problem"},
		),
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, 1, "NAME|FILE [-i k=v ...] [--format text|json|dot|mermaid] [--check]"); err != nil {
				return err
			}
			format, err := checkFormat(c, "text", "json", "dot", "mermaid")
			if err != nil {
				return err
			}
			return st.plan(c, c.Args().First(), format, c.Bool("check"), "")
		},
	}
}

// plan prints the plan of one playbook; with targets (run --dry-run
// --targets) one plan per target. With check, a plan that finds a problem
// (a permission denied, a target not found) ends with exit 1: the run would
// fail. run --dry-run comes here too, and so never reaches Action.Run.
func (st *cliState) plan(c *cli.Context, arg, format string, check bool, targets string) error {
	reg := st.registry(c.Context, check)
	pb, err := st.find(reg, arg)
	if err != nil {
		return err
	}
	in, err := readInputs(c)
	if err != nil {
		return err
	}
	sets := []targetSet{{given: in.given}}
	if targets != "" {
		if sets, err = st.targetInputs(pb, in, targets); err != nil {
			return err
		}
	}
	var checker plan.PermissionChecker
	if check {
		checker = st.permissionChecker(c.Context)
	}
	var problems []string
	for i, set := range sets {
		if targets != "" {
			fmt.Fprintf(st.stdout, "%s# target %d of %d: %s\n", map[bool]string{true: "\n"}[i > 0], i+1, len(sets), set.value)
		}
		inputs, err := in.resolveTarget(pb, set)
		if err != nil {
			return err
		}
		found, err := st.planOne(c.Context, reg, pb, inputs, format, check, st.planOptions(in, check, checker))
		if err != nil {
			return err
		}
		problems = append(problems, found...)
	}
	return st.checkOutcome(check, problems)
}

// planOne builds and prints one plan, returning its problems.
func (st *cliState) planOne(ctx context.Context, reg *engine.Registry, pb *engine.Playbook, inputs map[string]any, format string, check bool, opts []plan.Option) ([]string, error) {
	p, err := plan.Build(ctx, reg, pb, inputs, check, opts...)
	if err != nil {
		return nil, err
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
	return p.Problems(), err
}

// targetSet is the inputs of one --targets line, and where the line is.
type targetSet struct {
	given map[string]any
	value string
	pos   string // file:line:col, for errors
}

// targetInputs is the given inputs once per line of the targets file.
func (st *cliState) targetInputs(pb *engine.Playbook, in *runInputs, file string) ([]targetSet, error) {
	target, ok := targetInput(pb)
	if !ok {
		return nil, usageErrorf("playbook %q has no input marked `target: true` for --targets to feed", pb.Name)
	}
	lines, err := st.readTargets(file)
	if err != nil {
		return nil, err
	}
	name := file
	if file == "-" {
		name = "<stdin>"
	}
	sets := make([]targetSet, len(lines))
	for i, l := range lines {
		g := make(map[string]any, len(in.given)+1)
		for k, v := range in.given {
			g[k] = v
		}
		g[target.Name] = l.value
		sets[i] = targetSet{given: g, value: l.value, pos: fmt.Sprintf("%s:%d:%d", name, l.line, l.col)}
	}
	return sets, nil
}

// resolveTarget resolves one target's inputs; an error names its line.
func (in *runInputs) resolveTarget(pb *engine.Playbook, t targetSet) (map[string]any, error) {
	inputs, err := in.resolve(pb, t.given)
	if err != nil && t.pos != "" { // a --targets line; without one the inputs speak for themselves
		return nil, withCode(exitUsage, fmt.Errorf("%s: target %q: %w", t.pos, printable(t.value), err))
	}
	if err != nil {
		return nil, err
	}
	return inputs, nil
}
