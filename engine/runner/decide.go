package runner

import (
	"fmt"
	"slices"

	"github.com/firebreak-ir/firebreak/engine"
)

func yes() bool { return true }
func no() bool  { return false }

// env is the expression environment for a step with needFailed as failed(),
// and item and index bound for a for_each item. It shares r.steps: it is
// only used on the coordinator goroutine.
func (r *run) env(needFailed bool, it any, index int) *engine.Env {
	e := r.base
	e.Steps = r.steps
	e.Item, e.Index = it, index
	e.Always, e.Failed, e.Succeeded = yes, no, yes
	if needFailed {
		e.Failed, e.Succeeded = yes, no
	}
	return &e
}

// failedNeed returns, for the first need (in needs order) that failed
// without continue_on_error, or that was skipped because of such a failure,
// the id of that failed step, and the reason the step would be skipped.
// A need skipped for any other reason (when false, approval declined)
// counts as fine. Carrying the failure through skipped steps is what keeps
// a -> isolate -> terminate from terminating after a failed. It changes
// nothing.
func failedNeed(st *stepState) (failed, reason string) {
	for _, n := range st.needs {
		switch {
		case n.failedHard():
			return n.step.ID, fmt.Sprintf("needs %q failed", n.step.ID)
		case n.rec.Status == engine.StatusSkipped && n.blockedBy != "":
			return n.blockedBy, fmt.Sprintf("needs %q, skipped because %q failed", n.step.ID, n.blockedBy)
		}
	}
	return "", ""
}

// decide says whether a ready step runs: a skip reason, or an error when its
// condition cannot be evaluated. A step whose need failed is skipped unless
// its when uses always() or failed(); then failed() is true. It changes
// nothing.
func (r *run) decide(st *stepState) (skip string, err error) {
	failed, reason := failedNeed(st)
	w := st.step.When
	if failed != "" && (w == nil || !w.UsesAlways) {
		return reason, nil
	}
	if w == nil {
		return "", nil
	}
	env := r.env(failed != "", nil, 0)
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
