package main

import (
	"maps"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
)

// inputFlags are -i, --inputs-file and --finding, shared by plan and run.
func inputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "input", Aliases: []string{"i"}, Usage: "set input `KEY=VALUE` (repeatable; a list as k=a,b)"},
		&cli.StringFlag{Name: "inputs-file", Usage: "read inputs from `FILE` (YAML or JSON); -i wins over it"},
		&cli.StringFlag{Name: "finding", Usage: "start from the GuardDuty or Security Hub finding in `FILE` (expressions see finding and incident)"},
	}
}

// runInputs are what a run starts from: the inputs given on the command
// line, and the finding it answers, if any.
type runInputs struct {
	given             map[string]any
	finding, incident map[string]any
}

// readInputs merges --inputs-file and -i (the flags winning) and reads
// --finding. Every problem is exit 2.
func readInputs(c *cli.Context) (*runInputs, error) {
	in := &runInputs{given: map[string]any{}}
	if f := c.String("inputs-file"); f != "" {
		fromFile, err := loader.ReadInputsFile(f)
		if err != nil {
			return nil, withCode(exitUsage, err)
		}
		maps.Copy(in.given, fromFile)
	}
	flags, err := loader.ParseInputFlags(c.StringSlice("input"))
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	maps.Copy(in.given, flags)
	if f := c.String("finding"); f != "" {
		if in.finding, in.incident, err = readFinding(f); err != nil {
			return nil, withCode(exitUsage, err)
		}
	}
	return in, nil
}

// resolve checks the given inputs against pb's declarations and applies the
// defaults, which may read the finding; a bad input is exit 2.
func (in *runInputs) resolve(pb *engine.Playbook, given map[string]any) (map[string]any, error) {
	resolved, err := loader.ResolveInputs(pb, given, &engine.Env{Finding: in.finding, Incident: in.incident})
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	return resolved, nil
}

// targetInput is the input marked `target: true`, fed by --targets.
func targetInput(pb *engine.Playbook) (*engine.Input, bool) {
	for _, in := range pb.Inputs {
		if in.Target {
			return in, true
		}
	}
	return nil, false
}
