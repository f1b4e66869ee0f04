package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
)

// job is one run to start or resume: the session's request, plus what the
// command line decides around it.
type job struct {
	reg *engine.Registry
	req *session.Request
	yes bool // --yes: approve every step
}

// outcome is how a job ended, for the summary and the exit code.
type outcome struct {
	label, runID, caseID string
	pb                   *engine.Playbook
	status               engine.RunStatus // "" when the run never started
	result               *runner.Result
	headlines            []headline // the outputs a responder acts on
	caseURI, manifestURI string
	err                  error
}

// sessions is the session manager of one command: the local backend over
// the state dir, or Temporal with --temporal (close disconnects). The
// command opens the store and the key itself (their errors are usage
// errors, exit 2); the session reloads a resumed run's playbook from its
// source.
func (st *cliState) sessions(ctx context.Context, reg *engine.Registry) (m *session.Manager, close func(), err error) {
	b, close, err := st.backend(ctx, reg)
	if err != nil {
		return nil, nil, err
	}
	return &session.Manager{
		Backend: b,
		Open: session.Opener{
			Store:    st.openStore,
			Playbook: func(src string) (*engine.Playbook, error) { return loadSource(reg, src) },
		},
		Tool:   toolRef(),
		Logger: st.runnerLogger(),
	}, close, nil
}

// startJob runs j from the start and seals its case. It never returns
// before the manifest is written, even when ctx is cancelled.
func (st *cliState) startJob(ctx context.Context, m *session.Manager, j *job, d display) *outcome {
	now := time.Now().UTC()
	if j.req.RunID == "" { // a batch names its runs in its record first
		j.req.RunID = runner.NewRunID(now)
	}
	if j.req.CaseID == "" {
		j.req.CaseID = evidence.NewCaseID(now)
	}
	j.req.StartedAt = now
	return st.execJob(ctx, m, j, d, false)
}

// execJob runs or resumes j through the session and waits for its end.
func (st *cliState) execJob(ctx context.Context, m *session.Manager, j *job, d display, resume bool) *outcome {
	req := j.req
	out := &outcome{label: req.Label, runID: req.RunID, caseID: req.CaseID, pb: req.Playbook}
	var err error
	if req.Store, err = st.openStore(ctx, req.Evidence); err != nil {
		out.err = withCode(exitUsage, err)
		return out
	}
	if req.Signer, err = loadSigner(req.SignKey); err != nil {
		out.err = withCode(exitUsage, err)
		return out
	}
	req.Operator, _ = st.operator(ctx, needsAWS(j.reg, req.Playbook))
	req.Approver, req.Observer = st.approver(j.yes, d), d.observer(req.Label)
	if st.temporal.addr != "" && req.Approver == nil {
		// On Temporal the step waits for an answer as long as the run lives.
		show := req.Observer
		req.Observer = func(ev runner.StepEvent) {
			show(ev)
			if ev.Status == engine.StatusWaiting && ev.Item < 0 {
				st.logf("step %q of run %s waits for approval: answer with `firebreak approve %s %s` (--decline to refuse)", ev.Step, ev.RunID, ev.RunID, ev.Step)
			}
		}
	}
	var run *session.Run
	if resume {
		run, err = m.Resume(ctx, req)
	} else {
		run, err = m.Start(ctx, req)
	}
	if err != nil {
		out.err = err
		return out
	}
	o := run.Wait()
	out.status, out.result, out.err = o.Status, o.Result, o.Err
	if o.Result != nil {
		out.headlines = headlines(j.reg, o.Result.Steps)
	}
	if o.Status != "" {
		out.caseURI = req.Evidence.Where(o.CaseID)
		out.manifestURI = req.Evidence.Where(o.CaseID + "/manifest.json")
	}
	return out
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

// toolRef names this build in case headers and batch records.
func toolRef() evidence.ToolRef {
	ver, _ := buildVersion()
	return evidence.ToolRef{Name: "firebreak", Version: ver}
}
