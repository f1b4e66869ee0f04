package loader

import (
	"errors"
	"fmt"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/graph"
)

// block is the main steps or the finally steps: each is its own graph.
type block struct {
	decls   []*stepDecl
	ids     map[string]*stepDecl // first decl of each id
	names   []string             // the ids, sorted, for suggestions
	finally bool
	graph   *graph.Graph // built by cycles; nil when the block has a cycle
}

// check runs the checks that need the whole playbook: ids, needs, cycles,
// references in expressions, actions and their parameters.
func (d *decoder) check(pb *engine.Playbook, main, fin []*stepDecl, reg *engine.Registry) {
	mb := &block{decls: main, ids: map[string]*stepDecl{}}
	fb := &block{decls: fin, ids: map[string]*stepDecl{}, finally: true}
	d.uniqueIDs(mb, fb)
	inputs := newInputSet(pb)
	for _, b := range []*block{mb, fb} {
		other := fb
		if b.finally {
			other = mb
		}
		for _, sd := range b.decls {
			d.resolveNeeds(sd, b, other)
		}
		d.cycles(b)
		for _, sd := range b.decls {
			d.references(sd, inputs, b, other)
			d.outputs(sd, [2]*block{mb, fb}, reg)
			d.action(sd, reg)
		}
	}
	// With no problem anywhere, each block's graph holds every step of it,
	// in order: it is the graph the runner and the planner walk.
	pb.Graph, pb.FinallyGraph = mb.graph, fb.graph
}

func (d *decoder) uniqueIDs(blocks ...*block) {
	first := map[string]*stepDecl{}
	for _, b := range blocks {
		for _, sd := range b.decls {
			if sd.idNode == nil {
				continue
			}
			if prev, dup := first[sd.s.ID]; dup {
				d.errf(sd.idNode, "duplicate step id %q (first at line %d): ids must be unique across steps and finally", sd.s.ID, prev.idNode.Line)
				continue
			}
			first[sd.s.ID] = sd
			b.ids[sd.s.ID] = sd
		}
		b.names = keysOf(b.ids)
	}
}

// resolveNeeds keeps the needs that name a step of the same block, once
// each (the runner counts needs), and reports the others.
func (d *decoder) resolveNeeds(sd *stepDecl, b, other *block) {
	kept := map[string]bool{}
	for _, n := range sd.needs {
		switch _, ok := b.ids[n.Value]; {
		case ok && kept[n.Value]:
		case ok:
			kept[n.Value] = true
			sd.s.Needs = append(sd.s.Needs, n.Value)
		case other.ids[n.Value] != nil && b.finally:
			d.errf(n, "finally step %q needs main step %q: finally steps run after every main step has ended, so drop it (steps.%s stays readable)", sd.s.ID, n.Value, n.Value)
		case other.ids[n.Value] != nil:
			d.errf(n, "step %q needs finally step %q: finally steps run after every main step, so a main step cannot wait for one", sd.s.ID, n.Value)
		default:
			d.errf(n, "unknown step %q in needs%s", n.Value, d.hint(n.Value, b.names))
		}
	}
}

// cycles builds the block's graph from the steps with a unique id and
// reports each cycle at the needs of its first step.
func (d *decoder) cycles(b *block) {
	var steps []*engine.Step
	for _, sd := range b.decls {
		if sd.idNode != nil && b.ids[sd.s.ID] == sd {
			steps = append(steps, sd.s)
		}
	}
	g, err := engine.GraphOf(steps)
	if err == nil {
		b.graph = g
		return
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		var ce *graph.CycleError
		if !errors.As(e, &ce) {
			d.errAt(d.pos(nil), "%v", e) // cannot happen: needs and ids were checked
			continue
		}
		at := b.ids[ce.Path[0]]
		p := d.pos(at.needsKey)
		d.errs = append(d.errs, &Error{Pos: p, Msg: ce.Error() + ": remove one of these needs", Err: ce})
	}
}

// ancestors are the steps sd needs, directly or not, within its block. It
// works on a graph with cycles too, so that every problem is reported at once.
func ancestors(sd *stepDecl, b *block) map[string]bool {
	out := map[string]bool{}
	stack := append([]string(nil), sd.s.Needs...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if out[id] {
			continue
		}
		out[id] = true
		if n := b.ids[id]; n != nil {
			stack = append(stack, n.s.Needs...)
		}
	}
	return out
}

func keysOf[V any](m map[string]V) []string { return engine.SortedKeys(m) }

func describeStep(sd *stepDecl) string {
	if sd.s.ID == "" {
		return "this step"
	}
	return fmt.Sprintf("step %q", sd.s.ID)
}
