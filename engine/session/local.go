package session

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
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

// Runs lists the journals in StateDir (runner.ListRuns), each with what
// its record says of where its case is: the evidence location, and for a
// --targets run its target and batch.
func (l *Local) Runs(context.Context) ([]engine.RunInfo, error) {
	runs, err := runner.ListRuns(l.StateDir)
	for i := range runs {
		rec, rerr := readRecord(l.StateDir, runs[i].ID)
		if rerr != nil {
			continue
		}
		r := &runs[i]
		r.Evidence, r.Target = rec.Evidence, rec.Target
		if loc, perr := evidence.ParseLocation(rec.Evidence); perr == nil && rec.Target != "" {
			_, r.Batch, _ = loc.Split()
		}
		if r.Err != nil && errors.Is(r.Err, fs.ErrNotExist) {
			r.CaseID, r.Err = rec.CaseID, ErrNotStarted
		}
	}
	return runs, err
}

// ErrNotStarted is a run's Err in Runs when it has a record but no
// journal: it was refused, or its process was killed, before its first
// step. Nothing ran in it.
var ErrNotStarted = errors.New("never started: refused or killed before its first step, nothing ran")

// Discard forgets run runID when it never started: its record goes, as
// long as no journal is there. The session calls it when a new run is
// refused after Record (a busy case, a journal that cannot be made), so a
// refused run leaves no run dir behind. It is optional for a Backend
// (discarder).
func (l *Local) Discard(_ context.Context, runID string) error {
	if l.StateDir == "" {
		return nil
	}
	journal := runner.JournalPath(l.StateDir, runID)
	if _, err := os.Lstat(journal); !errors.Is(err, fs.ErrNotExist) {
		return nil // it started, or cannot be told: keep it
	}
	if err := os.Remove(recordPath(l.StateDir, runID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	err := os.Remove(filepath.Dir(journal)) // only when empty: nothing else is lost
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Load reads run runID's journal and its record: the job as it started
// (the record's playbook source, made absolute when it was written) and
// the status the journal holds.
func (l *Local) Load(_ context.Context, runID string) (*Job, engine.RunStatus, error) {
	rs, err := runner.LoadJournal(l.StateDir, runID)
	if errors.Is(err, fs.ErrNotExist) {
		if _, rerr := readRecord(l.StateDir, runID); rerr == nil {
			return nil, "", fmt.Errorf("run %q %w; start a new run", runID, ErrNotStarted)
		}
	}
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
