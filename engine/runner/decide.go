package runner

import (
	"fmt"
	"slices"

	"github.com/firebreak-ir/firebreak/engine"
)

func yes() bool { return true }
func no() bool  { return false }

// env is the expression environment for a step with needFailed as failed(),
// and item and index bound for a for_each item. It shares m.steps: it is
// only used on the coordinator goroutine.
func (m *machine) env(needFailed bool, it any, index int) *engine.Env {
	e := m.base
	e.Steps = m.steps
	e.Item, e.Index = it, index
	e.Always, e.Failed, e.Succeeded = yes, no, yes
	e.Stop = m.drv.Stopped // a slow expression ends when the run is interrupted
	if needFailed {
		e.Failed, e.Succeeded = yes, no
	}
	return &e
}

// block is why a step's needs keep it from running: the step upstream
// that failed (without continue_on_error) or whose approval was declined.
type block struct {
	by       string // the failed or declined step
	declined bool   // by was declined, not failed
}

// reason is the skip reason of a step whose need n carries b.
func (b block) reason(n *stepState) string {
	what := "failed"
	if b.declined {
		what = "was declined"
	}
	if n.step.ID == b.by {
		if b.declined {
			return fmt.Sprintf("needs %q, which was declined", b.by)
		}
		return fmt.Sprintf("needs %q failed", b.by)
	}
	return fmt.Sprintf("needs %q, skipped because %q %s", n.step.ID, b.by, what)
}

// blockingNeed returns, for the first need (in needs order) that failed
// without continue_on_error, was declined, or was skipped because of
// either, what blocks the step and the reason it would be skipped. A need
// skipped by its own when counts as fine. Carrying a failure through
// skipped steps is what keeps a -> isolate -> terminate from terminating
// after a failed; carrying a declined approval is what keeps the steps
// after it from acting as if the responder had said yes (GitHub Actions
// skips the jobs after a skipped job the same way). It changes nothing.
func blockingNeed(st *stepState) (b block, reason string) {
	for _, n := range st.needs {
		var nb block
		switch {
		case n.failedHard():
			nb = block{by: n.step.ID}
		case n.rec.Status == engine.StatusSkipped && n.declined:
			nb = block{by: n.step.ID, declined: true}
		case n.rec.Status == engine.StatusSkipped && n.blocked.by != "":
			nb = n.blocked
		default:
			continue
		}
		return nb, nb.reason(n)
	}
	return block{}, ""
}

// decide says whether a ready step runs: a skip reason, or an error when its
// condition cannot be evaluated. A step whose need failed or was declined
// is skipped unless its when uses always() or failed(); failed() is then
// true only when a need failed. It changes nothing.
func (m *machine) decide(st *stepState) (skip string, err error) {
	b, reason := blockingNeed(st)
	w := st.step.When
	if b.by != "" && (w == nil || !w.UsesAlways) {
		return reason, nil
	}
	if w == nil {
		return "", nil
	}
	env := m.env(b.by != "" && !b.declined, nil, 0)
	ok, err := w.EvalBool(env)
	if err != nil {
		return "", fmt.Errorf("when: %w; fix the step's condition", err)
	}
	if !ok {
		return w.WhyFalse(env), nil // in words, as the plan says it
	}
	return "", nil
}

// evalParams evaluates a step's `with` values, coerces them to the action's
// parameter types and applies the defaults. A value that evaluates to null
// counts as not given, so the default (or the required check) applies.
func evalParams(stepID string, spec engine.ActionSpec, with map[string]engine.Value, env *engine.Env) (engine.Params, error) {
	out := make(engine.Params, len(spec.Params))
	for _, name := range engine.SortedKeys(with) {
		p, ok := spec.Param(name)
		if !ok {
			return nil, fmt.Errorf("step %q: action %q takes no parameter %q; see `firebreak actions %s`", stepID, spec.Name, name, spec.Name)
		}
		if with[name] == nil {
			continue // a hand-built playbook may hold a nil value: not given
		}
		v, err := with[name].Eval(env)
		if err != nil {
			return nil, fmt.Errorf("step %q: parameter %q: %w", stepID, name, err)
		}
		if v == nil {
			continue
		}
		if out[name], err = coerceParam(p, v); err != nil {
			if p.Secret { // the error would quote the value
				return nil, fmt.Errorf("step %q: secret parameter %q: the value is not a valid %s (not shown); fix its value in the step's `with`", stepID, name, p.Type)
			}
			return nil, fmt.Errorf("step %q: parameter %q: %w; fix its value in the step's `with`", stepID, name, err)
		}
	}
	for _, p := range spec.Params {
		if _, ok := out[p.Name]; ok {
			continue
		}
		if p.Default != nil {
			v, err := coerceParam(p, p.Default)
			if err != nil {
				return nil, fmt.Errorf("step %q: default of parameter %q: %w", stepID, p.Name, err)
			}
			out[p.Name] = v
		} else if p.Required {
			return nil, fmt.Errorf("step %q: parameter %q is required but has no value; set it in the step's `with`", stepID, p.Name)
		}
	}
	return out, nil
}

func coerceParam(p engine.Param, v any) (any, error) {
	c, err := engine.Coerce(p.Type, v)
	if err != nil {
		return nil, err
	}
	if len(p.Enum) > 0 {
		s, _ := c.(string)
		if !slices.Contains(p.Enum, s) {
			return nil, fmt.Errorf("%s is not one of %q", engine.Describe(c), p.Enum)
		}
	}
	return c, nil
}

// loggable returns params with Secret ones redacted, for logs.
func loggable(spec engine.ActionSpec, params engine.Params) map[string]any {
	out := make(map[string]any, len(params))
	for k, v := range params {
		if p, ok := spec.Param(k); ok && p.Secret {
			v = redacted
		}
		out[k] = v
	}
	return out
}
