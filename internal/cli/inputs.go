package cli

import (
	"fmt"
	"maps"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/findings"
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
	given   map[string]any
	finding *findings.Finding // nil without --finding
}

// forRun is the --finding a run starts from; nil without one.
func (in *runInputs) forRun() *session.Finding {
	if in.finding == nil {
		return nil
	}
	return in.finding.ForRun()
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
		if in.finding, err = findings.Load(f); err != nil {
			return nil, withCode(exitUsage, fmt.Errorf("--finding: %w", err))
		}
	}
	return in, nil
}

// resolve checks the given inputs against pb's declarations and applies the
// defaults, which may read the finding; a bad input is exit 2.
func (in *runInputs) resolve(pb *engine.Playbook, given map[string]any) (map[string]any, error) {
	resolved, err := loader.ResolveInputs(pb, given, in.finding.Env())
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

// objects are the finding and incident maps expressions see; nil without
// a finding.
func (in *runInputs) objects() (finding, incident map[string]any) {
	if in.finding == nil {
		return nil, nil
	}
	return in.finding.Object, in.finding.Incident
}
