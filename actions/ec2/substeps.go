package ec2

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// substeps runs the independent parts of a containment action: one that
// fails is recorded and does not stop or hide the others; the action
// fails at the end naming every part that failed.
type substeps struct {
	ev     engine.Evidence
	gaps   bool // a call the endpoint does not implement is a gap, not a failure
	status map[string]string
	failed []string
	errs   []error
}

// newSubsteps is for containment (isolate, release): every error fails its
// part, UnsupportedOperation and InvalidAction included, since they are
// real refusals (a Spot instance refuses termination protection) and a
// part that did not happen must never read as done.
func newSubsteps(ev engine.Evidence) *substeps {
	return &substeps{ev: ev, status: map[string]string{}}
}

// newGapSubsteps is for read-only collection: a call the endpoint does not
// implement is a recorded gap, not a failure.
func newGapSubsteps(ev engine.Evidence) *substeps {
	return &substeps{ev: ev, gaps: true, status: map[string]string{}}
}

// errOptionalUnanswered marks an optional call the endpoint did not answer
// (see awsapi.IsUnanswered): a gap, like a call it does not implement.
var errOptionalUnanswered = errors.New("the endpoint did not answer this optional call (moto_server answers so for actions it does not implement)")

// optional turns an unanswered optional call into a gap.
func optional(err error) error {
	if awsapi.IsUnanswered(err) {
		return fmt.Errorf("%w: %w", errOptionalUnanswered, err)
	}
	return err
}

// run runs fn as the part called name. For read-only collection
// (newGapSubsteps) an error the endpoint gives for a call it does not
// implement is a gap, recorded in the custody log, not a failure.
func (s *substeps) run(ctx context.Context, name, call string, fn func() error) {
	err := fn()
	switch {
	case err == nil:
		s.status[name] = "done"
	case s.gaps && (awsapi.IsNotImplemented(err) || errors.Is(err, errOptionalUnanswered)):
		s.status[name] = "skipped: not implemented by the endpoint (recorded as a gap)"
		if gerr := awsapi.Gap(ctx, s.ev, call, err, map[string]any{"substep": name}); gerr != nil {
			s.fail(name, gerr)
		}
	default:
		s.fail(name, err)
	}
	s.record(ctx, name)
}

// record writes the part's outcome to the custody log, so the chain shows
// what was not done as well as what was. A failed write fails the part.
func (s *substeps) record(ctx context.Context, name string) {
	if err := s.ev.Event(ctx, "substep", map[string]any{"name": name, "status": s.status[name]}); err != nil {
		s.fail(name, fmt.Errorf("recording the outcome in the custody log: %w", err))
	}
}

func (s *substeps) fail(name string, err error) {
	s.status[name] = "error: " + err.Error()
	s.failed = append(s.failed, name)
	s.errs = append(s.errs, fmt.Errorf("%s: %w", name, err))
}

func (s *substeps) skip(ctx context.Context, name, why string) {
	s.status[name] = "skipped: " + why
	s.record(ctx, name)
}

// runUnless runs the part, or skips it saying why when why is not empty.
func (s *substeps) runUnless(ctx context.Context, why, name, call string, fn func() error) {
	if why != "" {
		s.skip(ctx, name, why)
		return
	}
	s.run(ctx, name, call, fn)
}

// ok reports whether every part that ran succeeded.
func (s *substeps) ok() bool { return len(s.failed) == 0 }

// asMap is the substeps output.
func (s *substeps) asMap() map[string]any {
	m := make(map[string]any, len(s.status))
	for k, v := range s.status {
		m[k] = v
	}
	return m
}

// err is the action's error: which parts failed and why. It is retryable
// only when every failure was: the action is idempotent, so a retry redoes
// only what is missing.
func (s *substeps) err(action string) error {
	if s.ok() {
		return nil
	}
	err := fmt.Errorf("%s: %d part(s) failed (%s); the others were done, see the substeps output; fix the cause and run the step again: %w",
		action, len(s.failed), strings.Join(s.failed, ", "), errors.Join(s.errs...))
	for _, e := range s.errs {
		if !engine.IsRetryable(e) {
			return err
		}
	}
	return engine.Retryable(err)
}
