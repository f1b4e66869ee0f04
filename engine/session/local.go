package session

import (
	"context"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

// Local runs steps in this process with engine/runner, keeping each run's
// journal and record under StateDir/runs/RUN_ID/.
type Local struct {
	Registry *engine.Registry
	// StateDir holds journals and records; empty: no journal, so a run
	// cannot be resumed (tests, benchmarks).
	StateDir string
	// Clock and Sleep are the runner's, for tests; nil: the real ones.
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

var _ Backend = (*Local)(nil)

// InProcess is true: steps record into the case the session holds.
func (l *Local) InProcess() bool { return true }

// Run runs job with runner.Run.
func (l *Local) Run(ctx context.Context, job *Job, pb *engine.Playbook, h Hooks) (*runner.Result, error) {
	return runner.Run(ctx, l.config(job, pb, h))
}

// Resume continues job with runner.Resume. The inputs, finding and
// incident are the journal's, which is the run's own record of them.
func (l *Local) Resume(ctx context.Context, job *Job, pb *engine.Playbook, h Hooks) (*runner.Result, error) {
	cfg := l.config(job, pb, h)
	cfg.Inputs, cfg.Finding, cfg.Incident = nil, nil, nil
	return runner.Resume(ctx, cfg)
}

func (l *Local) config(job *Job, pb *engine.Playbook, h Hooks) runner.Config {
	return runner.Config{
		Registry: l.Registry, Playbook: pb, Inputs: job.Inputs, Finding: job.Finding, Incident: job.Incident,
		RunID: job.RunID, CaseID: job.CaseID, StateDir: l.StateDir, Case: h.Case, Parallelism: job.Parallelism,
		Approver: h.Approver, Logger: h.Logger, Observer: h.Observer, Operator: job.Operator,
		Clock: l.Clock, Sleep: l.Sleep,
	}
}

// Runs lists the journals in StateDir (runner.ListRuns).
func (l *Local) Runs(context.Context) ([]engine.RunInfo, error) {
	return runner.ListRuns(l.StateDir)
}

// Load reads run runID's journal and its record: the job as it started
// (the record's playbook source, made absolute when it was written) and
// the status the journal holds.
func (l *Local) Load(_ context.Context, runID string) (*Job, engine.RunStatus, error) {
	rs, err := runner.LoadJournal(l.StateDir, runID)
	if err != nil {
		return nil, "", err
	}
	rec, err := readRecord(l.StateDir, runID)
	if err != nil {
		return nil, "", err
	}
	h := rs.Header
	job := &Job{RunID: runID, CaseID: h.CaseID, Playbook: h.Playbook, Inputs: h.Inputs, Finding: h.Finding,
		Incident: h.Incident, Operator: h.Operator, Evidence: rec.Evidence, SignKey: rec.SignKey,
		Parallelism: rec.Parallelism, Label: rec.Target, StartedAt: h.StartedAt}
	job.Playbook.Source, job.Playbook.SHA256 = rec.Playbook, rec.SHA256
	return job, rs.Status, nil
}
