package session

import (
	"context"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

// Run is a run that has started: its case is open and its steps are
// running in the background. Its methods are safe for concurrent use.
type Run struct {
	// ID, CaseID and Label name the run; Playbook is what it runs.
	ID, CaseID, Label string
	Playbook          *engine.Playbook

	cancel context.CancelCauseFunc
	feed   *feed
	done   chan struct{}
	out    *Outcome
}

// Outcome is how a run ended.
type Outcome struct {
	RunID, CaseID, Label string
	// Status is the status the manifest records; empty when the run never
	// started (the case was not sealed, and nothing ran). It is never
	// succeeded unless the manifest was written.
	Status engine.RunStatus
	// Result is the backend's; nil when the run never started.
	Result *runner.Result
	// Manifest is the sealed manifest; nil when it could not be written.
	Manifest *evidence.Manifest
	// Store holds the case; Evidence is where (the Request's; zero when
	// it gave only its Store), for a responder: Evidence.Where(CaseID).
	Store    evidence.Store
	Evidence evidence.Location
	// Err is why the run stopped early, did not start, or was not sealed
	// (the backend's error joined with the manifest's). A run whose steps
	// failed has a nil Err and Status failed.
	Err error
}

// Cancel interrupts the run as Ctrl-C does: nothing new starts, running
// steps see their context cancelled, finally steps run, the case is
// sealed as interrupted, and the run can be resumed.
func (r *Run) Cancel() { r.cancel(context.Canceled) }

// Done is closed once the run has ended and its case is sealed.
func (r *Run) Done() <-chan struct{} { return r.done }

// Wait waits for the run to end and returns how it ended.
func (r *Run) Wait() *Outcome {
	<-r.done
	return r.out
}

// Follow returns the run's step events as they happen, for a live view:
// first the latest event of every step and item so far, then each new
// one, with room for buf events waiting to be read. The channel is closed
// when the run ends, when stop is called, or when the follower falls more
// than buf events behind (the run never waits for a follower): follow
// again to catch up from the current state. Any number may follow.
func (r *Run) Follow(buf int) (events <-chan runner.StepEvent, stop func()) {
	return r.feed.follow(buf)
}

// Steps returns the latest event of every step and item so far, in the
// order they were first seen.
func (r *Run) Steps() []runner.StepEvent { return r.feed.snapshot() }
