package loader

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/firebreak-ir/firebreak/engine"
)

// outputRef is a steps.X.outputs.Y in an expression.
type outputRef struct{ step, output string }

// outputRefs returns the steps.X.outputs.Y references of e, in order.
func outputRefs(e *engine.Expr) []outputRef {
	if e == nil || e.Program == nil {
		return nil
	}
	v := &outputVisitor{}
	root := e.Program.Node()
	ast.Walk(&root, v)
	return v.refs
}

type outputVisitor struct{ refs []outputRef }

func (v *outputVisitor) Visit(node *ast.Node) {
	out, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	name, ok := out.Property.(*ast.StringNode)
	if !ok {
		return
	}
	outputs, ok := out.Node.(*ast.MemberNode)
	if !ok || !isString(outputs.Property, "outputs") {
		return
	}
	step, ok := outputs.Node.(*ast.MemberNode)
	if !ok {
		return
	}
	id, ok := step.Property.(*ast.StringNode)
	if root, isIdent := step.Node.(*ast.IdentifierNode); ok && isIdent && root.Value == "steps" {
		v.refs = append(v.refs, outputRef{step: id.Value, output: name.Value})
	}
}

func isString(n ast.Node, s string) bool {
	str, ok := n.(*ast.StringNode)
	return ok && str.Value == s
}

// outputs checks that each steps.X.outputs.Y names an output that X's
// action declares. Actions that declare no outputs are not checked; a
// for_each step's only output is items, the list of its items' outputs.
func (d *decoder) outputs(sd *stepDecl, blocks [2]*block, reg *engine.Registry) {
	if reg == nil {
		return
	}
	for _, s := range sd.sites {
		for _, r := range outputRefs(s.E) {
			decl := blocks[0].ids[r.step]
			if decl == nil {
				decl = blocks[1].ids[r.step]
			}
			if decl == nil {
				continue // reported as an unknown step
			}
			target := decl.s
			names := declaredOutputs(target, reg)
			if names == nil || contains(names, r.output) {
				continue
			}
			at := d.refPos(s, "steps", r.step) // written steps.X.outputs["Y"] or so
			if i := strings.Index(s.E.Source, "steps."+r.step+".outputs."+r.output); i >= 0 {
				at = d.posIn(s.N, s.Off+i)
			}
			d.errAt(at,
				"step %q has no output %q%s: %s", r.step, r.output, d.hint(r.output, names), outputsOf(target, names))
		}
	}
}

func declaredOutputs(st *engine.Step, reg *engine.Registry) []string {
	if st.ForEach != nil {
		return []string{"items"}
	}
	a, ok := reg.Lookup(st.Action)
	if !ok || len(a.Spec().Outputs) == 0 {
		return nil
	}
	var names []string
	for _, o := range a.Spec().Outputs {
		names = append(names, o.Name)
	}
	return names
}

func outputsOf(st *engine.Step, names []string) string {
	if st.ForEach != nil {
		return "a for_each step's outputs are items, one entry per item, e.g. outputs.items[0]"
	}
	return fmt.Sprintf("action %q gives %s", st.Action, quoteAll(names))
}
