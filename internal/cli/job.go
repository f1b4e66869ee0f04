package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/findings"
)

// finishTimeout bounds writing the manifest after an interrupted run, whose
// own context is already cancelled.
const finishTimeout = 30 * time.Second

// job is one run to start or resume.
type job struct {
	reg      *engine.Registry
	pb       *engine.Playbook
	inputs   map[string]any
	finding  *findings.Finding // --finding; nil for none, and on resume (the journal has it)
	runID    string            // set for a resume
	caseID   string
	evidence evidence.Location // where the store is, absolute
	opts     runOptions
	label    string // the target, with --targets
	started  time.Time
}

// outcome is how a job ended, for the summary and the exit code.
type outcome struct {
	label, runID, caseID string
	status               engine.RunStatus // "" when the run never started
	result               *runner.Result
	caseURI, manifestURI string
	err                  error
}

// startJob runs j from the start and finishes its case. It never returns
// before the manifest is written, even when ctx is cancelled.
func (st *cliState) startJob(ctx context.Context, j *job, d display) *outcome {
	now := time.Now().UTC()
	j.runID = runner.NewRunID(now)
	if j.caseID == "" {
		j.caseID = evidence.NewCaseID(now)
	}
	j.started = now
	return st.execJob(ctx, j, d, false)
}

// execJob runs or resumes j, then seals its case.
func (st *cliState) execJob(ctx context.Context, j *job, d display, resume bool) *outcome {
	out := &outcome{label: j.label, runID: j.runID, caseID: j.caseID}
	store, err := st.openStore(ctx, j.evidence)
	if err != nil {
		out.err = withCode(exitUsage, err)
		return out
	}
	signer, err := loadSigner(j.opts.signKey)
	if err != nil {
		out.err = withCode(exitUsage, err)
		return out
	}
	op, opName := st.operator(ctx, needsAWS(j.reg, j.pb))
	if err := writeInvocation(st.stateDir, j); err != nil {
		out.err = err
		return out
	}
	ver, _ := buildVersion()
	hdr := evidence.Header{CaseID: j.caseID, RunID: j.runID, Playbook: j.pb.Ref(),
		Tool: evidence.ToolRef{Name: "firebreak", Version: ver}, Operator: op, Inputs: j.inputs, StartedAt: j.started}
	cs, err := evidence.OpenCase(ctx, store, hdr, signer)
	if err != nil {
		out.err = fmt.Errorf("opening case %q in %s: %w", j.caseID, j.evidence, err)
		return out
	}
	// Finish releases the case lock too; Close covers the paths that return
	// before it (an S3 lease would otherwise hold the case until it lapses).
	defer cs.Close()
	if err := putFinding(ctx, cs, j.finding); err != nil {
		out.err = err
		return out
	}
	cfg := runner.Config{
		Registry: j.reg, Playbook: j.pb, Inputs: j.inputs, RunID: j.runID, CaseID: j.caseID,
		StateDir: st.stateDir, Case: cs, Parallelism: j.opts.parallelism, Approver: st.approver(j.opts.yes, d),
		Logger: st.runnerLogger(), Observer: d.observer(j.label), Operator: opName,
	}
	if j.finding != nil {
		cfg.Finding, cfg.Incident = j.finding.Object, j.finding.Incident
	}
	var res *runner.Result
	if resume {
		cfg.Inputs = nil // the journal's
		res, err = runner.Resume(ctx, cfg)
	} else {
		res, err = runner.Run(ctx, cfg)
	}
	out.result, out.err = res, err
	out.status = runStatus(ctx, res, err)
	if out.status == "" {
		return out // the run never started: nothing to finish
	}
	st.finishCase(ctx, cs, j.evidence, out)
	return out
}

// runStatus is the status to record: the runner's, or interrupted when it
// stopped without a result because of a cancel.
func runStatus(ctx context.Context, res *runner.Result, err error) engine.RunStatus {
	switch {
	case res != nil:
		return res.Status
	case errors.Is(err, engine.ErrInterrupted) || ctx.Err() != nil:
		return engine.RunInterrupted
	}
	return ""
}

// finishCase writes the manifest, even after a cancel: an interrupted run's
// evidence must still be sealed and verifiable.
func (st *cliState) finishCase(ctx context.Context, cs *evidence.Case, loc evidence.Location, out *outcome) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if _, err := cs.Finish(fctx, out.status, time.Now().UTC()); err != nil {
		out.err = errors.Join(out.err, fmt.Errorf("writing the manifest of case %q: %w", out.caseID, err))
		if out.status == engine.RunSucceeded {
			out.status = engine.RunFailed // evidence that is not sealed is not a success
		}
	}
	out.caseURI = loc.Where(out.caseID)
	out.manifestURI = loc.Where(out.caseID + "/manifest.json")
}

// putFinding stores the finding a run starts from as the case's first
// artifact, exactly as it was given.
func putFinding(ctx context.Context, cs *evidence.Case, f *findings.Finding) error {
	if f == nil {
		return nil
	}
	if _, err := findings.Put(ctx, cs.Evidence(findings.StepID), f); err != nil {
		return fmt.Errorf("storing the finding in case %q: %w", cs.ID(), err)
	}
	return nil
}

func loadSigner(path string) (evidence.Signer, error) {
	if path == "" {
		return nil, nil
	}
	s, err := evidence.LoadEd25519Signer(path)
	if err != nil {
		return nil, fmt.Errorf("--sign-key %q: %w", path, err)
	}
	return s, nil
}
