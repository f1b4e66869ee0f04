package loader

import (
	"fmt"
	"slices"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// references checks what each expression of a step reads: declared
// inputs; steps that are its ancestors (a finally step may also read any
// main step, since it runs after all of them); item and index only in a
// for_each step, and not in the for_each expression itself.
func (d *decoder) references(sd *stepDecl, in *inputSet, b, other *block) {
	var anc map[string]bool
	for _, s := range sd.sites {
		for _, name := range s.E.Inputs {
			if !in.declared[name] {
				d.errAt(d.refPos(s, "inputs", name), "unknown input %q%s: declare it under inputs", name, d.hint(name, in.names))
			}
		}
		for _, id := range s.E.Steps {
			if anc == nil {
				anc = ancestors(sd, b)
			}
			if msg := d.stepRef(sd, id, anc, b, other); msg != "" {
				d.errAt(d.refPos(s, "steps", id), "%s", msg)
			}
		}
		for _, name := range envNames(s.E) {
			if name != "item" && name != "index" {
				continue
			}
			switch {
			case sd.s.ForEach == nil:
				d.errAt(d.refPos(s, name, ""), "%s reads %s, which exists only in a step with for_each", describeStep(sd), name)
			case s.E == sd.s.ForEach:
				d.errAt(d.refPos(s, name, ""), "for_each cannot read %s: it is what makes the items", name)
			}
		}
	}
}

// inputSet is the declared input names, made once per playbook.
type inputSet struct {
	names    []string
	declared map[string]bool
}

func newInputSet(pb *engine.Playbook) *inputSet {
	s := &inputSet{declared: make(map[string]bool, len(pb.Inputs))}
	for _, in := range pb.Inputs {
		s.names = append(s.names, in.Name)
		s.declared[in.Name] = true
	}
	return s
}

func (d *decoder) stepRef(sd *stepDecl, id string, anc map[string]bool, b, other *block) string {
	switch {
	case id == sd.s.ID:
		return fmt.Sprintf("step %q reads its own steps.%s: a step sees only the steps it needs", id, id)
	case anc[id]:
		return ""
	case b.ids[id] != nil:
		return fmt.Sprintf("%s reads steps.%s but does not depend on it: add %q to its needs", describeStep(sd), id, id)
	case other.ids[id] != nil && b.finally:
		return "" // a finally step runs after every main step
	case other.ids[id] != nil:
		return fmt.Sprintf("%s reads finally step %q, which runs after every main step", describeStep(sd), id)
	}
	return fmt.Sprintf("unknown step %q in steps.%s%s", id, id, d.hint(id, b.names, other.names))
}

// refPos places a reference root.name inside the expression's source.
func (d *decoder) refPos(s site, root, name string) engine.Pos {
	src := s.E.Source
	i := -1
	if name != "" {
		for _, form := range []string{root + "." + name, root + `["` + name, root + `['` + name} {
			if i = strings.Index(src, form); i >= 0 {
				break
			}
		}
	} else {
		i = strings.Index(src, root)
	}
	return d.posIn(s.N, s.Off+max(i, 0))
}

// action checks the step's action and its with: against the registry.
func (d *decoder) action(sd *stepDecl, reg *engine.Registry) {
	if reg == nil || sd.actionNode == nil {
		return
	}
	a, ok := reg.Lookup(sd.s.Action)
	if !ok {
		d.errf(sd.actionNode, "unknown action %q%s", sd.s.Action, d.hint(sd.s.Action, reg.Names()))
		return
	}
	spec := a.Spec()
	names := make([]string, len(spec.Params))
	for i, p := range spec.Params {
		names[i] = p.Name
	}
	given := map[string]bool{}
	for _, w := range sd.with {
		given[w.name] = true
		p, ok := spec.Param(w.name)
		if !ok {
			d.errf(w.key, "action %q takes no parameter %q%s", spec.Name, w.name, d.hint(w.name, names))
			continue
		}
		d.literalParam(w, p, spec.Name)
	}
	for _, p := range spec.Params {
		if p.Required && p.Default == nil && !given[p.Name] {
			d.errf(sd.actionNode, "action %q needs parameter %q: add it under with", spec.Name, p.Name)
		}
	}
}

// literalParam checks a parameter written as a literal; a value with an
// expression is known only at run time, when the runner coerces it.
func (d *decoder) literalParam(w param, p engine.Param, action string) {
	if w.v == nil || len(w.v.Exprs()) > 0 {
		return
	}
	v, err := w.v.Eval(&engine.Env{})
	if err != nil {
		return
	}
	c, err := engine.Coerce(p.Type, v)
	if err != nil {
		d.errf(w.val, "parameter %q of action %q: %v", p.Name, action, err)
		return
	}
	if s, ok := c.(string); ok && len(p.Enum) > 0 && !slices.Contains(p.Enum, s) {
		d.errf(w.val, "parameter %q of action %q must be one of %s, got %q%s", p.Name, action, quoteAll(p.Enum), s, d.hint(s, p.Enum))
	}
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
