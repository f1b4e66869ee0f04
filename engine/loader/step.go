package loader

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/firebreak-ir/firebreak/engine"
)

// stepDecl is a decoded step with the nodes the whole-playbook checks
// need to place their errors.
type stepDecl struct {
	s          *engine.Step
	node       *yaml.Node // the step's map
	idNode     *yaml.Node
	actionNode *yaml.Node
	needsKey   *yaml.Node
	needs      []*yaml.Node
	with       []param
	sites      []site // every expression of the step
}

// param is one `with:` entry.
type param struct {
	name     string
	key, val *yaml.Node
	v        engine.Value
}

func (d *decoder) steps(f field, defs engine.StepDefaults, finally bool) []*stepDecl {
	n := d.deref(f.val)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errf(n, "%s must be a list of steps, got %s", f.name, describe(n))
		return nil
	}
	if len(n.Content) > maxSteps {
		d.errf(n, "%s holds %d steps, more than %d: split the playbook", f.name, len(n.Content), maxSteps)
		return nil
	}
	if len(n.Content) == 0 && !finally {
		d.errf(n, "steps is empty: a playbook needs at least one step")
	}
	var out []*stepDecl
	for _, it := range n.Content {
		if sd := d.step(it, defs, finally); sd != nil {
			out = append(out, sd)
		}
	}
	return out
}

func (d *decoder) step(n *yaml.Node, defs engine.StepDefaults, finally bool) *stepDecl {
	if n = d.deref(n); n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errf(n, "a step must be a map with at least id and action, got %s", describe(n))
		return nil
	}
	st := &engine.Step{Timeout: defs.Timeout, Retries: defs.Retries, Backoff: defs.Backoff, Finally: finally, Pos: d.pos(n)}
	sd := &stepDecl{s: st, node: n}
	var concurrency, forEach *yaml.Node
	approve := false
	for _, f := range d.fields(n, "a step", stepFields) {
		switch f.name {
		case "id":
			st.ID, sd.idNode = d.str(f)
		case "action":
			st.Action, sd.actionNode = d.str(f)
		case "with":
			d.with(f, sd)
		case "needs":
			sd.needsKey, sd.needs = f.key, d.strList(f, "step ids")
		case "when":
			st.When = d.exprField(f, engine.ExprBool, sd)
		case "for_each":
			forEach = f.key
			st.ForEach = d.exprField(f, engine.ExprList, sd)
		case "timeout":
			if v, ok := d.duration(f); ok {
				st.Timeout = v
			}
		case "retries":
			if v, ok := d.int(f, 0); ok {
				st.Retries = v
			}
		case "backoff":
			st.Backoff = d.backoff(f, defs.Backoff)
		case "continue_on_error":
			st.ContinueOnError, _ = d.bool(f)
		case "concurrency":
			concurrency = f.key
			st.Concurrency, _ = d.int(f, 1)
		case "approve":
			st.Approve, approve = d.approve(f)
		case "description":
			st.Description, _ = d.str(f)
		}
	}
	if approve {
		st.Approve = fmt.Sprintf("run step %q (%s)?", st.ID, st.Action)
	}
	d.stepRequired(sd)
	if concurrency != nil && forEach == nil {
		d.errf(concurrency, "concurrency bounds the items of a for_each: this step has no for_each, so remove it")
	}
	return sd
}

func (d *decoder) stepRequired(sd *stepDecl) {
	st := sd.s
	if sd.idNode == nil {
		d.errf(sd.node, `missing required field "id" in step: give it a unique name, e.g. id: gather`)
	} else if !namePattern.MatchString(st.ID) {
		d.errf(sd.idNode, "bad step id %q: use lower-case letters, digits and dashes, starting with a letter or digit", st.ID)
	}
	if sd.actionNode == nil {
		d.errf(sd.node, `missing required field "action" in %s: name the action it runs (see firebreak actions)`, describeStep(sd))
	}
}

func (d *decoder) with(f field, sd *stepDecl) {
	for _, g := range d.fields(f.val, "with", nil) {
		v, ok := d.compile(g.val, fmt.Sprintf("with.%s", g.name), 0, &sd.sites)
		if !ok {
			// Given, though broken: its error is reported, so it must not
			// also count as missing.
			sd.with = append(sd.with, param{name: g.name, key: g.key})
			continue
		}
		if sd.s.With == nil {
			sd.s.With = map[string]engine.Value{}
		}
		sd.s.With[g.name] = v
		sd.with = append(sd.with, param{name: g.name, key: g.key, val: d.deref(g.val), v: v})
	}
}

// exprField compiles a when or for_each. A whole `${{ x }}` is accepted
// too, as people write it out of habit from with:.
func (d *decoder) exprField(f field, kind engine.ExprKind, sd *stepDecl) *engine.Expr {
	n := d.scalar(f, "an expression")
	if n == nil {
		return nil
	}
	if n.Tag != "!!str" && n.Tag != "!!bool" {
		d.errf(n, "%s must be an expression, got %s", f.name, describe(n))
		return nil
	}
	src, off := unwrapExpr(n.Value)
	if n.Tag == "!!bool" {
		src = strings.ToLower(src) // YAML's True and TRUE are expr-lang's true
	}
	if strings.TrimSpace(src) == "" {
		d.errf(n, "%s is empty: write an expression or remove it", f.name)
		return nil
	}
	e, err := engine.CompileExpr(src, kind)
	if err != nil {
		d.exprErr(n, off, src, f.name, err)
		return nil
	}
	sd.sites = append(sd.sites, site{E: e, N: n, Off: off})
	return e
}

// unwrapExpr returns the inside of a string that is exactly one
// ${{ }}, with its byte offset; any other string as it is.
func unwrapExpr(s string) (string, int) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "${{") || !strings.HasSuffix(t, "}}") || strings.Count(t, "${{") != 1 || len(t) < 5 {
		return s, 0
	}
	start := strings.Index(s, "${{") + 3
	end := strings.LastIndex(s, "}}")
	if end < start {
		return s, 0
	}
	return s[start:end], start
}

// approve returns the question given, or true when the step asks the
// default question (made once id and action are known).
func (d *decoder) approve(f field) (string, bool) {
	n := d.scalar(f, "true or the question to ask")
	if n == nil {
		return "", false
	}
	var b bool
	switch {
	case n.Tag == "!!bool" && n.Decode(&b) == nil:
		return "", b
	case n.Tag == "!!str" && strings.TrimSpace(n.Value) != "":
		return n.Value, false
	}
	d.errf(n, "approve must be true or the question to ask, got %s", describe(n))
	return "", false
}
