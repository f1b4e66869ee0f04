package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/playbooks"
)

func resumeCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "resume",
		Usage:     "continue an interrupted or failed run; steps that succeeded are not run again",
		ArgsUsage: "RUN_ID",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "approve every step that asks for approval"},
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, 1, "RUN_ID"); err != nil {
				return err
			}
			return st.resume(c.Context, c.Args().First(), c.Bool("yes"))
		},
	}
}

func (st *cliState) resume(ctx context.Context, runID string, yes bool) error {
	reg := st.registry(ctx, true)
	m, closeM, err := st.sessions(ctx, reg)
	if err != nil {
		return err
	}
	defer closeM()
	req, err := m.ResumeRequest(ctx, runID)
	switch {
	case errors.Is(err, fs.ErrNotExist) && st.temporal.addr != "":
		return usageErrorf("no run %q on Temporal at %s (namespace %s): `firebreak runs --temporal ...` lists them", runID, st.temporal.addr, st.temporal.namespace)
	case errors.Is(err, fs.ErrNotExist):
		return usageErrorf("no run %q in %s: `firebreak runs` lists the runs there", runID, st.stateDir)
	case errors.Is(err, session.ErrSucceeded):
		st.logf("run %s already succeeded; there is nothing to resume", runID)
		return nil
	case errors.Is(err, session.ErrNoRecord), errors.Is(err, session.ErrNotStarted):
		return withCode(exitUsage, err)
	case err != nil:
		return err
	}
	opts := runOptions{evidence: req.Evidence, signKey: req.SignKey}
	if err := st.preflight(ctx, reg, req.Playbook, []map[string]any{req.Inputs}, opts); err != nil {
		return err
	}
	j := &job{reg: reg, req: req, yes: yes}
	d := st.newDisplay()
	d.addRun(req.Label, req.Playbook, st.priorSteps(runID))
	out := st.execJob(ctx, m, j, d, true)
	st.endDisplay(d)
	st.printSummary(out)
	return out.exitErr()
}

// priorSteps are the run's steps as its journal left them, for the
// display to start from; none when it cannot be read (the resume itself
// says why).
func (st *cliState) priorSteps(runID string) []engine.StepRecord {
	prior, err := runner.LoadJournal(st.stateDir, runID)
	if err != nil {
		return nil
	}
	steps := make([]engine.StepRecord, 0, len(prior.Steps))
	for _, id := range engine.SortedKeys(prior.Steps) {
		steps = append(steps, *prior.Steps[id])
	}
	return steps
}

// loadSource loads a playbook again from where a run found it: a file, or
// a built-in ("builtin:NAME.yaml"), whatever shadows it now.
func loadSource(reg *engine.Registry, src string) (*engine.Playbook, error) {
	l := &loader.Loader{Registry: reg}
	if name, ok := strings.CutPrefix(src, "builtin:"); ok {
		data, err := fs.ReadFile(playbooks.FS, name)
		if err != nil {
			return nil, fmt.Errorf("built-in playbook %q is not in this build: %w", name, err)
		}
		return l.LoadBytes(src, data)
	}
	return l.LoadFile(src)
}
