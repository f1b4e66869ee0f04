package plan

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// step plans one step: its decision, its fan-out and the calls it would make.
func (b *builder) step(ctx context.Context, s *engine.Step, wave int) Step {
	st := Step{
		ID: s.ID, Action: s.Action, Needs: nonNil(s.Needs), Wave: wave,
		Finally: s.Finally, Approve: s.Approve, Calls: []string{},
	}
	if s.ForEach != nil {
		st.ForEach = s.ForEach.Source
	}
	act, ok := b.reg.Lookup(s.Action)
	if !ok {
		st.Decision = DecisionRun
		st.Problems = append(st.Problems, fmt.Sprintf("unknown action %q: run `firebreak actions` for the catalogue", s.Action))
		return st
	}
	spec := act.Spec()
	st.Mutating = spec.Mutating
	st.Decision, st.Reason = b.decide(s)
	if st.Decision == DecisionSkip {
		return st
	}
	if ids := b.approvalsBefore(s); len(ids) > 0 {
		st.Notes = append(st.Notes, fmt.Sprintf("skipped if the approval of %s is declined", quoteIDs(ids)))
	}
	items, itemsKnown := b.items(s, &st)
	for i, item := range items {
		env := b.env(item, i)
		params, problems := b.params(s, spec, env, itemsKnown)
		st.Problems = append(st.Problems, problems...)
		b.calls(ctx, act, spec, s, params, &st)
	}
	st.Calls = dedupe(st.Calls)
	st.Notes = dedupe(st.Notes)
	st.Problems = dedupe(st.Problems)
	return st
}

// decide evaluates `when` from the inputs alone. A needed step's failure is
// assumed not to happen, except that a condition which could only turn true
// on a failure (failed()) is left to the run.
func (b *builder) decide(s *engine.Step) (Decision, string) {
	w := s.When
	if w == nil {
		return DecisionRun, ""
	}
	if len(w.Steps) > 0 {
		if why, ok := b.falseConjunct(w); ok {
			return DecisionSkip, why
		}
		return DecisionRuntime, fmt.Sprintf("condition %q reads the outputs of %s, known only at run time", w.Source, quoteList(w.Steps))
	}
	if usesIdent(w, "item", "index") {
		return DecisionRuntime, fmt.Sprintf("condition %q is decided for each item at run time", w.Source)
	}
	ok, err := w.EvalBool(b.env(nil, 0))
	if err != nil {
		return DecisionRuntime, fmt.Sprintf("condition %q cannot be decided before the run: %v", w.Source, err)
	}
	if ok {
		return DecisionRun, ""
	}
	if w.UsesAlways && len(s.Needs) > 0 {
		env := b.env(nil, 0)
		env.Failed = func() bool { return true }
		env.Succeeded = func() bool { return false }
		if onFail, err := w.EvalBool(env); err == nil && onFail {
			return DecisionRuntime, fmt.Sprintf("condition %q is true only if a needed step fails", w.Source)
		}
	}
	return DecisionSkip, w.WhyFalse(b.env(nil, 0))
}

// unknownItem stands for the item of a fan-out decided at run time.
var unknownItem = engine.Unknown{Expr: "item"}

// items returns what the step fans out over: one nil item for a plain step,
// the list when for_each can be evaluated from the inputs, else one unknown
// item (and known = false).
func (b *builder) items(s *engine.Step, st *Step) (items []any, known bool) {
	fe := s.ForEach
	if fe == nil {
		return []any{nil}, true
	}
	if len(fe.Steps) > 0 {
		if st.Decision == DecisionRun {
			st.Decision = DecisionRuntime
			st.Reason = fmt.Sprintf("for_each %q reads the outputs of %s, known only at run time", fe.Source, quoteList(fe.Steps))
		}
		return []any{unknownItem}, false
	}
	v, err := fe.Eval(b.env(nil, 0))
	if err != nil {
		st.Problems = append(st.Problems, fmt.Sprintf("for_each: %v", err))
		return []any{unknownItem}, false
	}
	list, _ := v.([]any)
	n := len(list)
	st.Items = &n
	st.Notes = append(st.Notes, fmt.Sprintf("fans out over %d item(s)", n))
	return list, true
}

// env is the environment a step's expressions see before the run: the
// inputs, no step outputs, and needed steps assumed to succeed.
func (b *builder) env(item any, index int) *engine.Env {
	return &engine.Env{
		Inputs:    b.inputs,
		Steps:     map[string]engine.StepEnv{},
		Case:      map[string]any{},
		Run:       map[string]any{"playbook": b.pb.Name},
		Item:      item,
		Index:     index,
		Finding:   b.finding,
		Incident:  b.incident,
		Always:    func() bool { return true },
		Failed:    func() bool { return false },
		Succeeded: func() bool { return true },
	}
}

// params evaluates the step's `with` as far as the inputs allow: values
// that read step outputs (or an unknown item) become engine.Unknown; the
// rest are evaluated, coerced and defaulted as the runner would.
func (b *builder) params(s *engine.Step, spec engine.ActionSpec, env *engine.Env, itemKnown bool) (engine.Params, []string) {
	params := engine.Params{}
	var problems []string
	for _, name := range engine.SortedKeys(s.With) {
		v := s.With[name]
		if src, runtime := runtimeValue(v, itemKnown); runtime {
			params[name] = engine.Unknown{Expr: src}
			continue
		}
		val, err := v.Eval(env)
		if err != nil {
			problems = append(problems, fmt.Sprintf("parameter %q: %v", name, err))
			continue
		}
		if p, ok := spec.Param(name); ok && val != nil {
			c, err := engine.Coerce(p.Type, val)
			if err != nil {
				problems = append(problems, fmt.Sprintf("parameter %q: %v", name, err))
				continue
			}
			val = c
		}
		params[name] = val
	}
	for _, p := range spec.Params {
		if _, given := params[p.Name]; !given && p.Default != nil {
			params[p.Name] = p.Default
		}
	}
	return params, problems
}

// calls asks the action's Planner for the concrete calls, or falls back to
// the calls its spec declares. A planner that panics is a bug in the action;
// it becomes a problem on the step rather than ending the plan.
func (b *builder) calls(ctx context.Context, act engine.Action, spec engine.ActionSpec, s *engine.Step, params engine.Params, st *Step) {
	pl, ok := act.(engine.Planner)
	if !ok {
		st.Calls = append(st.Calls, spec.Calls...)
		return
	}
	defer func() {
		if r := recover(); r != nil {
			st.Problems = append(st.Problems, fmt.Sprintf("planner of %q panicked: %v\n%s", s.Action, r, debug.Stack()))
		}
	}()
	in := &engine.PlanInput{StepID: s.ID, Params: params, Check: b.check, Log: b.log.With("step", s.ID, "action", s.Action)}
	d, err := pl.Plan(ctx, in)
	if err != nil {
		st.Problems = append(st.Problems, fmt.Sprintf("planning: %v", err))
		return
	}
	if d == nil {
		st.Calls = append(st.Calls, spec.Calls...)
		return
	}
	st.Calls = append(st.Calls, d.Calls...)
	st.Notes = append(st.Notes, d.Notes...)
	st.Problems = append(st.Problems, d.Problems...)
}

// approvalsBefore returns the approve steps s depends on, directly or
// through other steps, in the order found: declining any of them skips s,
// unless its when uses always(). It changes nothing.
func (b *builder) approvalsBefore(s *engine.Step) []string {
	if s.When != nil && s.When.UsesAlways {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	var walk func(*engine.Step)
	walk = func(x *engine.Step) {
		for _, id := range x.Needs {
			n, ok := b.pb.Step(id)
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			if n.Approve != "" {
				out = append(out, id)
			}
			if n.When == nil || !n.When.UsesAlways { // always() stops what came before it
				walk(n)
			}
		}
	}
	walk(s)
	return out
}

func quoteIDs(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}
