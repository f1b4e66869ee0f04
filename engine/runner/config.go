package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// Config is everything a run needs. Run and Resume do not modify it.
type Config struct {
	Registry *engine.Registry
	Playbook *engine.Playbook
	// Inputs are the resolved inputs (loader.ResolveInputs). Resume uses
	// the journal's inputs when Inputs is nil.
	Inputs            map[string]any
	Finding, Incident map[string]any

	// RunID names the run (NewRunID); CaseID the evidence case.
	RunID, CaseID string
	// StateDir holds the journal, StateDir/runs/RUN_ID/journal.jsonl. Empty
	// means no journal: the run cannot be resumed (tests, benchmarks).
	StateDir string

	// Case receives evidence, custody events and step records. nil: no
	// evidence (tests): actions that store evidence fail, saying so.
	Case engine.Recorder
	// Parallelism bounds the steps (and for_each items) running at once:
	// 0 means the playbook's concurrency, else the smaller of both. When
	// both are 0 there is no bound.
	Parallelism int
	// Approver confirms approve steps. Nil: an approve step waits and the
	// run ends interrupted, resumable; AutoApprove is --yes.
	Approver Approver
	// Logger receives Info for step start and end, Debug for scheduling.
	// Nil: nothing is logged.
	Logger *slog.Logger
	// Observer sees every state change, for the live display. It is called
	// from the coordinator goroutine, so it must return quickly.
	Observer func(StepEvent)
	// Operator is the identity the run acts as (an ARN), when known.
	Operator string

	// Clock and Sleep are injectable for tests; nil means the real ones.
	// Sleep waits d or until ctx is done (then it returns ctx's error).
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Approver asks a human whether an approve step may run. Approve must return
// when ctx is done. The runner never asks two questions at once.
type Approver interface {
	Approve(ctx context.Context, stepID, question string) (bool, error)
}

// ApproverFunc adapts a function to Approver.
type ApproverFunc func(ctx context.Context, stepID, question string) (bool, error)

// Approve calls f.
func (f ApproverFunc) Approve(ctx context.Context, stepID, question string) (bool, error) {
	return f(ctx, stepID, question)
}

// AutoApprove says yes to every question: it is what --yes gives.
var AutoApprove Approver = ApproverFunc(func(context.Context, string, string) (bool, error) { return true, nil })

// StepEvent is one state change of a step, or of one item of a for_each step.
type StepEvent struct {
	RunID  string
	Step   string
	Action string
	// Item is the for_each item's index, or -1 for the step itself.
	Item       int
	Status     engine.StepStatus
	Attempt    int
	Error      string
	SkipReason string
	Time       time.Time
	// Duration is set when the step (or item) ended: how long it ran.
	Duration time.Duration
	// RetryIn is set on a failed attempt that will be retried.
	RetryIn time.Duration
	Finally bool
}

// Result is the outcome of Run or Resume.
type Result struct {
	RunID, CaseID string
	Status        engine.RunStatus
	// Steps are the records of every step, main steps first, in playbook order.
	Steps      []engine.StepRecord
	StartedAt  time.Time
	FinishedAt time.Time
	// JournalPath is the journal file, empty when there is none.
	JournalPath string
}

// Step returns the record of the step called id.
func (r *Result) Step(id string) (engine.StepRecord, bool) {
	for _, s := range r.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return engine.StepRecord{}, false
}

func (c *Config) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

func (c *Config) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
