package main

import (
	"maps"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
)

// inputFlags are -i and --inputs-file, shared by plan and run.
func inputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "input", Aliases: []string{"i"}, Usage: "set input `KEY=VALUE` (repeatable; a list as k=a,b)"},
		&cli.StringFlag{Name: "inputs-file", Usage: "read inputs from `FILE` (YAML or JSON); -i wins over it"},
	}
}

// givenInputs merges --inputs-file and -i, the flags winning.
func givenInputs(c *cli.Context) (map[string]any, error) {
	given := map[string]any{}
	if f := c.String("inputs-file"); f != "" {
		fromFile, err := loader.ReadInputsFile(f)
		if err != nil {
			return nil, withCode(exitUsage, err)
		}
		maps.Copy(given, fromFile)
	}
	flags, err := loader.ParseInputFlags(c.StringSlice("input"))
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	maps.Copy(given, flags)
	return given, nil
}

// resolveInputs checks given against pb's declarations and applies the
// defaults; a bad input is exit 2.
func resolveInputs(pb *engine.Playbook, given map[string]any) (map[string]any, error) {
	in, err := loader.ResolveInputs(pb, given, &engine.Env{})
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	return in, nil
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
