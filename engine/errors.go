package engine

import (
	"errors"

	"github.com/firebreak-ir/firebreak/engine/graph"
)

// Sentinel errors of the engine. Callers test them with errors.Is.
var (
	// ErrCycle: the steps' needs form a cycle (the graph package's own
	// sentinel, which its *graph.CycleError wraps).
	ErrCycle = graph.ErrCycle
	// ErrUpstreamFailed: a step was skipped because a step it needs failed.
	ErrUpstreamFailed = errors.New("a needed step failed")
	// ErrInterrupted: the run was cancelled (Ctrl-C, SIGTERM) and can be resumed.
	ErrInterrupted = errors.New("run interrupted")
	// ErrApprovalRequired: a step needs a human's approval and none could be
	// asked for; the run stops there and can be resumed.
	ErrApprovalRequired = errors.New("approval required")
	// ErrInvalidInput: an input value does not fit its declaration.
	ErrInvalidInput = errors.New("invalid input")
)

// retryableError marks an error as transient: throttling, a 5xx, a timeout,
// a broken connection.
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// Retryable marks err as worth retrying. The scheduler retries only such
// errors; everything else (a bad parameter, a refusal) fails the step at once.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &retryableError{err: err}
}

// IsRetryable reports whether err, or any error it wraps, was marked Retryable.
func IsRetryable(err error) bool {
	var r *retryableError
	return errors.As(err, &r)
}
