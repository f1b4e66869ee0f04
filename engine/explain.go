package engine

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// Parts returns the operands of the condition's top-level `a && b && ...`
// chain, each compiled as a condition of its own (the condition itself
// when it is no chain, or when a part does not compile alone). The plan
// decides a step from a part the inputs alone make false; WhyFalse names
// the part that was false. Parts compiles: call it to explain, not to run.
func (e *Expr) Parts() []*Expr {
	root, ok := written(e)
	if !ok {
		return []*Expr{e}
	}
	nodes := conjuncts(root)
	if len(nodes) == 1 {
		return []*Expr{e}
	}
	parts := make([]*Expr, 0, len(nodes))
	for _, n := range nodes {
		p, err := CompileExpr(n.String(), ExprBool)
		if err != nil {
			return []*Expr{e}
		}
		parts = append(parts, p)
	}
	return parts
}

// conjuncts flattens a chain of && into its operands.
func conjuncts(n ast.Node) []ast.Node {
	bin, ok := n.(*ast.BinaryNode)
	if !ok || (bin.Operator != "&&" && bin.Operator != "and") {
		return []ast.Node{n}
	}
	return append(conjuncts(bin.Left), conjuncts(bin.Right)...)
}

// WhyFalse says in words why the condition is false with env, for a
// responder reading why a step was skipped: the first false part of a
// `&&` chain, with the values it compared ("inputs.terminate is false",
// `steps.sockets.status is "succeeded", not "failed"`). What it cannot
// put in words it quotes (`condition "..." is false`). The plan and the
// runner both say it this way.
func (e *Expr) WhyFalse(env *Env) string {
	for _, p := range e.Parts() {
		if ok, err := p.EvalBool(env); err == nil && !ok {
			return Explain(p, env)
		}
	}
	return fmt.Sprintf("condition %q is false", e.Source)
}

// Explain says why part, a condition without a top-level &&, is false
// with env (see WhyFalse).
func Explain(part *Expr, env *Env) string {
	if root, ok := written(part); ok {
		if s, ok := explainNode(root, env); ok {
			return s
		}
	}
	return fmt.Sprintf("condition %q is false", part.Source)
}

// written is the expression's tree as written: the compiled program's is
// optimized (a literal list after `in` becomes a set), and a reason should
// quote what the playbook says.
func written(e *Expr) (ast.Node, bool) {
	if e == nil {
		return nil, false
	}
	tree, err := parser.Parse(e.Source)
	if err != nil {
		return nil, false
	}
	return tree.Node, true
}

// explainNode puts a false node in words; false when it cannot.
func explainNode(n ast.Node, env *Env) (string, bool) {
	switch x := n.(type) {
	case *ast.UnaryNode:
		if x.Operator == "!" || x.Operator == "not" {
			return valueOf(x.Node, env)
		}
	case *ast.BinaryNode:
		return explainBinary(x, env)
	case *ast.CallNode:
		return explainCall(x)
	case *ast.MemberNode, *ast.IdentifierNode:
		return valueOf(x, env)
	}
	return "", false
}

func explainBinary(x *ast.BinaryNode, env *Env) (string, bool) {
	switch x.Operator {
	case "||", "or":
		l, ok1 := explainNode(x.Left, env)
		r, ok2 := explainNode(x.Right, env)
		return l + " and " + r, ok1 && ok2
	case "==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains", "startsWith", "endsWith", "matches":
	default:
		return "", false
	}
	left, ok := valueOf(x.Left, env)
	if !ok {
		return "", false
	}
	if !isLiteral(x.Right) {
		right, ok := valueOf(x.Right, env)
		return left + " and " + right, ok
	}
	want := x.Right.String()
	switch x.Operator {
	case "==":
		return left + ", not " + want, true
	case "!=":
		return left, true
	}
	return fmt.Sprintf("%s, not %s %s", left, x.Operator, want), true
}

func explainCall(x *ast.CallNode) (string, bool) {
	id, ok := x.Callee.(*ast.IdentifierNode)
	if !ok || len(x.Arguments) > 0 {
		return "", false
	}
	switch id.Value {
	case "failed":
		return "no step it needs failed", true
	case "succeeded":
		return "a step it needs failed", true
	}
	return "", false
}

// valueOf says what a node is with env: `X is V`, or V alone for a
// literal.
func valueOf(n ast.Node, env *Env) (string, bool) {
	src := n.String()
	e, err := CompileExpr(src, ExprAny)
	if err != nil {
		return "", false
	}
	v, err := e.Eval(env)
	if err != nil {
		return "", false
	}
	if isLiteral(n) {
		return show(v), true
	}
	return src + " is " + show(v), true
}

// isLiteral reports whether n is a constant written in the condition.
func isLiteral(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode, *ast.ConstantNode:
		return true
	case *ast.ArrayNode:
		for _, el := range x.Nodes {
			if !isLiteral(el) {
				return false
			}
		}
		return true
	}
	return false
}

// shownMax bounds a value shown in a reason: a skip reason is one line.
const shownMax = 60

// show formats a value as a condition would be written: strings quoted,
// lists and maps as JSON, cut to shownMax.
func show(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		s = "null"
	case string:
		s = fmt.Sprintf("%q", x)
	case bool, int, int64, uint64, float64:
		s = fmt.Sprint(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			b = []byte(fmt.Sprint(x))
		}
		s = string(b)
	}
	if len(s) > shownMax {
		s = strings.ToValidUTF8(s[:shownMax-1], "") + "…"
	}
	return s
}
