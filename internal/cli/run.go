package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/session"
)

func runCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a playbook and record its evidence",
		ArgsUsage: "[NAME|FILE]",
		Flags: append(inputFlags(),
			&cli.StringFlag{Name: "targets", Usage: "start one run per line of `FILE` (- for stdin), feeding the input marked target: true"},
			&cli.StringFlag{Name: "case", Usage: "case `ID` (default: generated, e.g. cr-20261129T102217Z-7d5f)"},
			&cli.StringFlag{Name: "evidence", Value: "./evidence", Usage: "evidence store: a `DIR` or s3://BUCKET/PREFIX"},
			&cli.IntFlag{Name: "parallelism", Usage: "`N` steps running at once (0: the playbook's concurrency); with --targets, N runs at once (0: 4)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "plan with --check instead: read the live account, change nothing, run nothing"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "approve every step that asks for approval"},
			&cli.StringFlag{Name: "sign-key", Usage: "sign the manifest with the ed25519 private key in `FILE`"},
			&cli.BoolFlag{Name: "force", Usage: "with --finding: run the playbook named even when its findings: do not match the finding's type"},
		),
		Action: st.runAction,
	}
}

// runOptions are the run flags, checked.
type runOptions struct {
	evidence    evidence.Location
	caseID      string
	parallelism int
	yes         bool
	signKey     string
}

func (st *cliState) runAction(c *cli.Context) error {
	if err := needArgs(c, 0, 1, "NAME|FILE [-i k=v ...] [--targets FILE] [--case ID] [--evidence DIR|s3://BUCKET/PREFIX] [--dry-run] ... (NAME may be left out with --finding)"); err != nil {
		return err
	}
	in, err := readInputs(c)
	if err != nil {
		return err
	}
	name := c.Args().First()
	if name == "" && in.finding == nil {
		return usageErrorf("usage: firebreak run NAME|FILE [-i k=v ...]: name the playbook, or give --finding FILE for the playbook that answers it")
	}
	reg := st.registry(c.Context, true)
	if name == "" {
		if name, err = st.playbookFor(reg, in.finding); err != nil {
			return err
		}
	}
	if c.Bool("dry-run") {
		// The same code as plan --check: Action.Run is never reached.
		return st.plan(c, name, "text", true, c.String("targets"))
	}
	opts, err := readRunOptions(c)
	if err != nil {
		return err
	}
	pb, err := st.find(reg, name)
	if err != nil {
		return err
	}
	if err := st.checkFits(reg, pb, in.finding, c.Bool("force")); err != nil {
		return err
	}
	if t := c.String("targets"); t != "" {
		return st.runTargets(c.Context, reg, pb, in, t, opts)
	}
	inputs, err := in.resolve(pb, in.given)
	if err != nil {
		return err
	}
	if err := st.preflight(c.Context, reg, pb, []map[string]any{inputs}, opts); err != nil {
		return err
	}
	j := &job{reg: reg, yes: opts.yes, req: &session.Request{Playbook: pb, Inputs: inputs, Finding: in.forRun(),
		CaseID: opts.caseID, Evidence: opts.evidence, SignKey: opts.signKey, Parallelism: opts.parallelism}}
	m, closeM, err := st.sessions(c.Context, reg)
	if err != nil {
		return err
	}
	defer closeM()
	d := st.newDisplay()
	d.addRun("", pb, nil)
	out := st.startJob(c.Context, m, j, d)
	st.endDisplay(d)
	st.printSummary(out)
	return out.exitErr()
}

func readRunOptions(c *cli.Context) (runOptions, error) {
	o := runOptions{
		caseID:      c.String("case"),
		parallelism: c.Int("parallelism"), yes: c.Bool("yes"), signKey: c.String("sign-key"),
	}
	if o.parallelism < 0 {
		return o, usageErrorf("--parallelism %d: want 0 (the playbook's) or more", o.parallelism)
	}
	if o.caseID != "" {
		if err := evidence.CheckCaseID(o.caseID); err != nil {
			return o, usageErrorf("--case %q: %v", o.caseID, err)
		}
	}
	loc, err := evidenceLocation(c.String("evidence"))
	o.evidence = loc
	return o, err
}

// exitErr maps a run's end to the exit code: failed 1, interrupted 3.
func (o *outcome) exitErr() error {
	switch {
	case o.err != nil && o.status == "":
		return o.err
	case o.status == engine.RunSucceeded:
		return nil
	case o.status == engine.RunInterrupted:
		return silent{code: exitInterrupted}
	}
	if o.err != nil {
		return withCode(exitFailed, o.err)
	}
	return silent{code: exitFailed}
}
