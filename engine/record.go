package engine

import (
	"context"
	"time"
)

// StepStatus is the state of a step (or of one for_each item).
type StepStatus string

// Step states. Only Succeeded, Failed and Skipped are final; a step left
// Pending, Waiting, Running or Cancelled by an interrupted run runs again on
// resume.
const (
	StatusPending   StepStatus = "pending"
	StatusWaiting   StepStatus = "waiting" // for a human's approval
	StatusRunning   StepStatus = "running"
	StatusSucceeded StepStatus = "succeeded"
	StatusFailed    StepStatus = "failed"
	StatusSkipped   StepStatus = "skipped"
	StatusCancelled StepStatus = "cancelled" // stopped by an interrupt; not final
)

// Final reports whether s is an end state that resume keeps.
func (s StepStatus) Final() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusSkipped
}

// RunStatus is the state of a whole run.
type RunStatus string

// Run states, as the manifest records them.
const (
	RunRunning     RunStatus = "running"
	RunSucceeded   RunStatus = "succeeded"
	RunFailed      RunStatus = "failed"
	RunInterrupted RunStatus = "interrupted"
)

// StepRecord is what the manifest and the journal keep of a step.
type StepRecord struct {
	ID         string     `json:"id"`
	Action     string     `json:"action"`
	Status     StepStatus `json:"status"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Attempts   int        `json:"attempts"`
	Error      string     `json:"error,omitempty"`
	SkipReason string     `json:"skip_reason,omitempty"`
	Outputs    Outputs    `json:"outputs,omitempty"`
	// Items are the per-item records of a for_each step, in order.
	Items []StepRecord `json:"items,omitempty"`
}

// Recorder is what the runner needs from a case's evidence: per-step
// Evidence for actions, custody events for the run's own state changes, and
// the latest record of each step for the manifest. *evidence.Case
// implements it; it is safe for concurrent use.
type Recorder interface {
	Evidence(step string) Evidence
	Event(ctx context.Context, event, step string, detail map[string]any) error
	SetStep(r StepRecord)
}
