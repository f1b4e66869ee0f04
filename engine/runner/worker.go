package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

type msgKind int

const (
	msgDone     msgKind = iota // a unit ended: out or err
	msgRetry                   // an attempt failed and will be retried after wait
	msgApproval                // an approver answered
)

// msg is what a worker (or an approval goroutine) tells the coordinator.
type msg struct {
	kind     msgKind
	u        unit
	attempt  int
	out      engine.Outputs
	err      error
	wait     time.Duration
	approved bool
}

// work runs one unit with its retries. It only reads the unit's immutable
// fields and reports everything through r.results.
//
// Only errors the action marked engine.Retryable are retried. A step that
// hit its own timeout is retried only if the action's error is marked
// retryable too: the timeout says the step is slow, not that it is transient.
// An interrupted run (ctx done) retries nothing.
func (r *run) work(ctx context.Context, u unit, in engine.StepInput) {
	s := u.st.step
	for attempt := 1; ; attempt++ {
		in.Attempt = attempt
		out, err := RunAttempt(ctx, u.st.action, &in, s.Timeout)
		if err == nil || ctx.Err() != nil || !ShouldRetry(s, attempt, engine.IsRetryable(err)) {
			r.results <- msg{kind: msgDone, u: u, attempt: attempt, out: out, err: err}
			return
		}
		wait := Backoff(s.Backoff, attempt)
		r.results <- msg{kind: msgRetry, u: u, attempt: attempt + 1, err: err, wait: wait}
		if serr := r.cfg.sleep(ctx, wait); serr != nil {
			r.results <- msg{kind: msgDone, u: u, attempt: attempt, err: fmt.Errorf("waiting to retry: %w (last error: %w)", serr, err)}
			return
		}
	}
}

// ShouldRetry reports whether a failed attempt (1 for the first) of step s
// is tried again: only when the action marked its error retryable
// (engine.IsRetryable), and only while the step's retries last. The local
// runner and the Temporal workflow both decide with it.
func ShouldRetry(s *engine.Step, attempt int, retryable bool) bool {
	return retryable && attempt <= s.Retries
}

// RunAttempt calls the action once under the step's timeout, turning a
// panic into a *PanicError. A timeout's error names the step and says to
// raise its timeout; it stays retryable only when the action's own error
// is. The local runner's workers and the Temporal activities both call it.
func RunAttempt(ctx context.Context, a engine.Action, in *engine.StepInput, timeout time.Duration) (out engine.Outputs, err error) {
	actx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		cause := fmt.Errorf("step %q timed out after %s (raise its timeout: if it needs longer)", in.StepID, timeout)
		actx, cancel = context.WithTimeoutCause(ctx, timeout, cause)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, &PanicError{Action: a.Spec().Name, Value: p, Stack: debug.Stack()}
		}
	}()
	out, err = a.Run(actx, in)
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w: %w", context.Cause(actx), err)
	}
	return out, err
}

// PanicError is a panic inside an action, recovered into a step failure.
type PanicError struct {
	Action string
	Value  any
	Stack  []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("action %q panicked: %v (a bug in the action: report it with the stack in the journal)", e.Action, e.Value)
}

// ErrorText is what the journal, the manifest and the display keep of err:
// its message, and for a panic the stack too.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		return err.Error() + "\n" + string(pe.Stack)
	}
	return err.Error()
}

// Backoff is the wait before retry number n (1 for the first retry): the
// initial wait times Factor^(n-1), capped at Max, drawn in [w/2, w) with
// jitter. A zero Backoff means engine.DefaultBackoff.
func Backoff(b engine.Backoff, n int) time.Duration {
	if b.Initial <= 0 {
		b = engine.DefaultBackoff
	}
	f := b.Factor
	if f < 1 {
		f = 1
	}
	w := float64(b.Initial) * math.Pow(f, float64(n-1))
	if b.Max > 0 && w > float64(b.Max) {
		w = float64(b.Max)
	}
	if w > float64(math.MaxInt64/2) {
		w = float64(math.MaxInt64 / 2)
	}
	d := time.Duration(w)
	if b.Jitter && d >= 2 {
		d = d/2 + rand.N(d-d/2)
	}
	return d
}

// nopEvidence is the Evidence of a run without a case (Config.Case nil:
// tests, benchmarks). It refuses to store or record, so an action that
// makes evidence fails, saying why, rather than losing it silently; custody
// events have nowhere to go and are dropped. Actions never see a nil
// Evidence.
type nopEvidence struct{}

var errNoCase = errors.New("this run has no evidence case, so nothing can be stored: give runner.Config a Case (the CLI always does, see --evidence), or run only steps that store no evidence")

func (nopEvidence) Put(_ context.Context, _ engine.ArtifactMeta, r io.Reader) (engine.Artifact, error) {
	return engine.Artifact{}, errNoCase
}
func (nopEvidence) Record(context.Context, engine.Artifact) error       { return errNoCase }
func (nopEvidence) Event(context.Context, string, map[string]any) error { return nil }
