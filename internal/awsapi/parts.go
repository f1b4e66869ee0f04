package awsapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// Parts runs the independent parts of a containment or release action:
// a part that fails is recorded and neither stops nor hides the others,
// and the action fails at the end naming every part that failed. Each
// outcome is a "substep" custody event and an entry of the action's
// substeps output (done, skipped: why, error: why). Not safe for
// concurrent use: an action runs its parts one after another.
type Parts struct {
	ev     engine.Evidence
	status map[string]string
	failed []string
	errs   []error
}

// NewParts returns an empty record of parts writing to ev.
func NewParts(ev engine.Evidence) *Parts {
	return &Parts{ev: ev, status: map[string]string{}}
}

// Run runs fn as the part called name. Every error fails the part, "not
// implemented" included: a containment part that did not happen must
// never read as done.
func (p *Parts) Run(ctx context.Context, name string, fn func() error) {
	if err := fn(); err != nil {
		p.fail(name, err)
	} else {
		p.status[name] = "done"
	}
	p.record(ctx, name)
}

// Skip records that the part was not needed or not asked for, and why.
func (p *Parts) Skip(ctx context.Context, name, why string) {
	p.status[name] = "skipped: " + why
	p.record(ctx, name)
}

// Fail records the part as failed without running anything (its input
// could not be read, say).
func (p *Parts) Fail(ctx context.Context, name string, err error) {
	p.fail(name, err)
	p.record(ctx, name)
}

// record writes the part's outcome to the custody log, so the chain shows
// what was not done as well as what was. A failed write fails the part.
func (p *Parts) record(ctx context.Context, name string) {
	if err := p.ev.Event(ctx, "substep", map[string]any{"name": name, "status": p.status[name]}); err != nil {
		p.fail(name, fmt.Errorf("recording the outcome in the custody log: %w", err))
	}
}

func (p *Parts) fail(name string, err error) {
	p.status[name] = "error: " + err.Error()
	p.failed = append(p.failed, name)
	p.errs = append(p.errs, fmt.Errorf("%s: %w", name, err))
}

// OK reports whether every part so far succeeded (or was skipped).
func (p *Parts) OK() bool { return len(p.failed) == 0 }

// Status returns the outcome of the part called name ("" if it has none).
func (p *Parts) Status(name string) string { return p.status[name] }

// Map is the substeps output: part -> outcome.
func (p *Parts) Map() map[string]any {
	m := make(map[string]any, len(p.status))
	for k, v := range p.status {
		m[k] = v
	}
	return m
}

// Err is the action's error, nil when every part that ran succeeded: which
// parts failed and why. It is retryable only when every failure was: the
// actions that use Parts are idempotent, so a retry redoes only what is
// missing.
func (p *Parts) Err(action string) error {
	if len(p.failed) == 0 {
		return nil
	}
	err := fmt.Errorf("%s: %d part(s) failed (%s); the others were done, see the substeps output; fix the cause and run the step again: %w",
		action, len(p.failed), strings.Join(p.failed, ", "), errors.Join(p.errs...))
	for _, e := range p.errs {
		if !engine.IsRetryable(e) {
			return err
		}
	}
	return engine.Retryable(err)
}
