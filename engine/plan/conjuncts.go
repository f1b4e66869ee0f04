package plan

import (
	"fmt"

	"github.com/expr-lang/expr/ast"

	"github.com/firebreak-ir/firebreak/engine"
)

// falseConjunct looks for a part of a top-level `a && b && ...` condition
// that reads no step and is false from the inputs alone: then the whole
// condition is false whatever the steps give, and the step is a plain skip.
// This is what lets `inputs.terminate && steps.x.status == "succeeded"` be
// planned as skipped when terminate is false. It returns the part's source.
func (b *builder) falseConjunct(w *engine.Expr) (string, bool) {
	if w.Program == nil {
		return "", false
	}
	for _, part := range conjuncts(w.Program.Node()) {
		src := part.String()
		e, err := engine.CompileExpr(src, engine.ExprBool)
		if err != nil || len(e.Steps) > 0 || usesIdent(e, "item", "index", "failed", "succeeded", "always") {
			continue
		}
		if ok, err := e.EvalBool(b.env(nil, 0)); err == nil && !ok {
			return src, true
		}
	}
	return "", false
}

// conjuncts flattens a chain of && into its operands.
func conjuncts(n ast.Node) []ast.Node {
	bin, ok := n.(*ast.BinaryNode)
	if !ok || (bin.Operator != "&&" && bin.Operator != "and") {
		return []ast.Node{n}
	}
	return append(conjuncts(bin.Left), conjuncts(bin.Right)...)
}

func falseBecause(w *engine.Expr, part string) string {
	if part == w.Source {
		return fmt.Sprintf("condition %q is false", w.Source)
	}
	return fmt.Sprintf("condition %q is false: its part %q is false from the inputs alone", w.Source, part)
}
