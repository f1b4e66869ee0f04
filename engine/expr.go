package engine

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Env is the environment every expression is compiled against and runs
// with. Nothing else is reachable from an expression: no environment
// variables, files or network.
type Env struct {
	Inputs   map[string]any     `expr:"inputs"`
	Steps    map[string]StepEnv `expr:"steps"`
	Case     map[string]any     `expr:"case"` // id
	Run      map[string]any     `expr:"run"`  // id, playbook, started_at
	Item     any                `expr:"item"`
	Index    int                `expr:"index"`
	Finding  map[string]any     `expr:"finding"`
	Incident map[string]any     `expr:"incident"`

	// The status functions answer for the step being decided: always() is
	// true, failed() is true when a needed step failed, succeeded() when
	// none did.
	Always    func() bool `expr:"always"`
	Failed    func() bool `expr:"failed"`
	Succeeded func() bool `expr:"succeeded"`

	// Stop, when set, reports whether the run is being interrupted: an
	// evaluation then ends at its next loop step (ErrExprStopped).
	Stop func() bool `expr:"-"`

	guardFuncs // bounded builtins, filled by Eval for each evaluation
}

// StepEnv is what an expression sees of another step.
type StepEnv struct {
	Outputs map[string]any `expr:"outputs"`
	Status  string         `expr:"status"`
}

// ExprKind says what an expression must produce.
type ExprKind int

const (
	ExprAny  ExprKind = iota // a ${{ }} value
	ExprBool                 // when:
	ExprList                 // for_each:
)

// Expr is a compiled expression. It is safe for concurrent use.
type Expr struct {
	Source  string
	Kind    ExprKind
	Program *vm.Program
	// Inputs and Steps are the input names and step ids the expression
	// refers to, in order of first use; the loader checks them.
	Inputs []string
	Steps  []string
	// UsesAlways is true when the expression calls always() or failed(),
	// which lets a step run after a needed step failed.
	UsesAlways bool
	// UsesFinding is true when it reads finding or incident.
	UsesFinding bool
}

// ExprError is a compile error with its place inside the expression source
// (Line and Col start at 1), for the loader to shift to its place in the YAML.
type ExprError struct {
	Line, Col int
	Msg       string
}

func (e *ExprError) Error() string { return e.Msg }

// CompileExpr compiles src once, at load time.
func CompileExpr(src string, kind ExprKind) (*Expr, error) {
	opts := append([]expr.Option{expr.Env(Env{})}, guardOptions()...)
	if kind == ExprBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, exprError(err)
	}
	e := &Expr{Source: src, Kind: kind, Program: prog}
	e.collectRefs(prog.Node())
	return e, nil
}

func exprError(err error) error {
	var fe *file.Error
	if ok := asFileError(err, &fe); ok {
		return &ExprError{Line: fe.Line, Col: fe.Column + 1, Msg: fe.Message}
	}
	return &ExprError{Line: 1, Col: 1, Msg: err.Error()}
}

func asFileError(err error, target **file.Error) bool {
	fe, ok := err.(*file.Error)
	if ok {
		*target = fe
	}
	return ok
}

// Eval runs the expression against env. A for_each expression must give a
// list; a when expression a bool (checked at compile time).
// The evaluation is bounded (MaxExprBytes, MaxExprSteps, MaxExprTime) and
// ends early when env.Stop says so.
func (e *Expr) Eval(env *Env) (any, error) {
	run := Env{}
	if env != nil {
		run = *env
	}
	g := newGuard(run.Stop)
	g.install(&run)
	out, err := expr.Run(e.Program, &run)
	if g.err != nil {
		return nil, fmt.Errorf("evaluating %q: %w", e.Source, g.err)
	}
	if err != nil {
		if strings.Contains(err.Error(), "memory budget exceeded") {
			return nil, fmt.Errorf("evaluating %q: %w: it makes more than %d values", e.Source, ErrExprBudget, conf.DefaultMemoryBudget)
		}
		return nil, fmt.Errorf("evaluating %q: %w", e.Source, err)
	}
	if e.Kind == ExprList {
		l, err := Coerce(TypeList, out)
		if err != nil {
			return nil, fmt.Errorf("for_each %q: %w", e.Source, err)
		}
		return l, nil
	}
	return out, nil
}

// EvalBool runs a when expression.
func (e *Expr) EvalBool(env *Env) (bool, error) {
	out, err := e.Eval(env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("condition %q gave %s, want bool", e.Source, Describe(out))
	}
	return b, nil
}

// refVisitor collects inputs.X and steps.X references.
type refVisitor struct{ e *Expr }

func (v refVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		if !ok {
			return
		}
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			return
		}
		switch id.Value {
		case "inputs":
			v.e.Inputs = appendOnce(v.e.Inputs, prop.Value)
		case "steps":
			v.e.Steps = appendOnce(v.e.Steps, prop.Value)
		}
	case *ast.IdentifierNode:
		switch n.Value {
		case "always", "failed":
			v.e.UsesAlways = true
		case "finding", "incident":
			v.e.UsesFinding = true
		}
	}
}

func (e *Expr) collectRefs(root ast.Node) {
	ast.Walk(&root, refVisitor{e: e})
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
