package engine

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"
)

// An expression is written by whoever wrote the playbook and reads values
// an attacker may choose (a finding, a step's output), so its evaluation is
// bounded: what it may make, how many steps its loops may take, and how
// long it may run. Past a bound it ends with an error that names the bound
// (the step fails), never a Go fatal error (out of memory) and never a
// scheduler blocked on it.
const (
	// MaxExprBytes bounds the bytes of the strings one evaluation makes
	// (+, repeat, replace, join, string, toJSON, toBase64), all together.
	MaxExprBytes = 8 << 20
	// MaxExprSteps bounds the closure calls of one evaluation (each item
	// that map, filter, reduce, all, sortBy... visit), all loops together.
	MaxExprSteps = 100_000
	// MaxExprTime bounds one evaluation's wall time.
	MaxExprTime = 10 * time.Second
)

// ErrExprBudget is what an evaluation past MaxExprBytes, MaxExprSteps or
// MaxExprTime ends with.
var ErrExprBudget = errors.New("expression over its budget")

// ErrExprStopped is what an evaluation ends with when Env.Stop says the
// run is being interrupted.
var ErrExprStopped = errors.New("expression evaluation stopped: the run is being interrupted")

// guarded are the builtins whose result may be far larger than their
// arguments; expressions get the guard's versions of them instead.
var guarded = []string{"repeat", "replace", "join", "string", "toJSON", "toBase64"}

// The names the compile patch calls: a + that may join strings, and each
// closure body (a loop step).
const (
	guardAdd  = "__add"
	guardStep = "__step"
)

// guardFuncs are Env's fields that a guard fills for one evaluation. Their
// types are what the checker sees, so they are declared even though an
// Env built by a caller leaves them nil.
type guardFuncs struct {
	Repeat   func(s string, n int) (string, error)              `expr:"repeat"`
	Replace  func(s, old, new string, n ...int) (string, error) `expr:"replace"`
	Join     func(list any, sep ...string) (string, error)      `expr:"join"`
	String   func(v any) (string, error)                        `expr:"string"`
	ToJSON   func(v any) (string, error)                        `expr:"toJSON"`
	ToBase64 func(s string) (string, error)                     `expr:"toBase64"`
	Add      func(a, b any) (any, error)                        `expr:"__add"`
	Step     func(v any) (any, error)                           `expr:"__step"`
}

// guardOptions are the compile options that route expressions through the
// guard: the builtins replaced, + on strings and every closure body patched.
func guardOptions() []expr.Option {
	opts := make([]expr.Option, 0, len(guarded)+1)
	for _, name := range guarded {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	return append(opts, expr.Patch(guardPatch{}))
}

// guardPatch rewrites, once types are known, a + whose sides may both be
// strings into __add(a, b), and every closure body into __step(body).
// Arithmetic on known numbers stays as it is (and fast); a + the checker
// refuses (a string and a number) stays refused.
type guardPatch struct{}

func (guardPatch) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator != "+" || !maybeString(n.Left) || !maybeString(n.Right) {
			return
		}
		ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: guardAdd}, Arguments: []ast.Node{n.Left, n.Right}})
	case *ast.PredicateNode:
		if c, ok := n.Node.(*ast.CallNode); ok {
			if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == guardStep {
				return // patched already
			}
		}
		body := n.Node
		call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: guardStep}, Arguments: []ast.Node{body}}
		call.SetLocation(body.Location())
		n.Node = call
	}
}

func maybeString(n ast.Node) bool {
	t := n.Type()
	return t == nil || t.Kind() == reflect.Interface || t.Kind() == reflect.String
}

// guard is the budget of one evaluation.
type guard struct {
	bytes, steps int
	deadline     time.Time
	stop         func() bool
	err          error // the first bound hit
}

func newGuard(stop func() bool) *guard {
	return &guard{deadline: time.Now().Add(MaxExprTime), stop: stop}
}

// fail records the first bound hit and returns it.
func (g *guard) fail(err error) error {
	if g.err == nil {
		g.err = err
	}
	return g.err
}

// spend accounts n more bytes about to be made by what.
func (g *guard) spend(what string, n int) error {
	if n < 0 || n > MaxExprBytes-g.bytes {
		return g.fail(fmt.Errorf("%w: %s would make %d bytes, and an expression may make at most %d in all", ErrExprBudget, what, n, MaxExprBytes))
	}
	g.bytes += n
	return nil
}

// step accounts one closure call, and checks the clock and the run.
func (g *guard) step(v any) (any, error) {
	g.steps++
	if g.steps > MaxExprSteps {
		return nil, g.fail(fmt.Errorf("%w: its loops took more than %d steps", ErrExprBudget, MaxExprSteps))
	}
	if g.stop != nil && g.stop() {
		return nil, g.fail(ErrExprStopped)
	}
	if g.steps%64 == 0 && time.Now().After(g.deadline) {
		return nil, g.fail(fmt.Errorf("%w: it ran longer than %s", ErrExprBudget, MaxExprTime))
	}
	return v, nil
}

// install fills env's guard functions with g's.
func (g *guard) install(env *Env) {
	env.guardFuncs = guardFuncs{
		Repeat: func(s string, n int) (string, error) {
			if n < 0 {
				return "", fmt.Errorf("repeat: a negative count (%d)", n)
			}
			if len(s) > 0 && n > MaxExprBytes/len(s) {
				return "", g.fail(fmt.Errorf("%w: repeat would make %d × %d bytes, and an expression may make at most %d in all", ErrExprBudget, len(s), n, MaxExprBytes))
			}
			if err := g.spend("repeat", len(s)*n); err != nil {
				return "", err
			}
			return strings.Repeat(s, n), nil
		},
		Replace: func(s, old, new string, n ...int) (string, error) {
			if len(n) > 1 {
				return "", fmt.Errorf("replace takes 3 or 4 arguments")
			}
			count := strings.Count(s, old)
			if len(n) == 1 && n[0] >= 0 && n[0] < count {
				count = n[0]
			}
			if len(new) > len(old) && count > 0 {
				if len(new)-len(old) > MaxExprBytes/count {
					return "", g.fail(fmt.Errorf("%w: replace would make more than %d bytes", ErrExprBudget, MaxExprBytes))
				}
				if err := g.spend("replace", len(s)+count*(len(new)-len(old))); err != nil {
					return "", err
				}
			}
			if len(n) == 1 {
				return strings.Replace(s, old, new, n[0]), nil
			}
			return strings.ReplaceAll(s, old, new), nil
		},
		Join: func(list any, sep ...string) (string, error) {
			glue := ""
			if len(sep) > 1 {
				return "", fmt.Errorf("join takes 1 or 2 arguments")
			} else if len(sep) == 1 {
				glue = sep[0]
			}
			v := reflect.ValueOf(list)
			if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
				return "", fmt.Errorf("join: %s is not a list", Describe(list))
			}
			parts := make([]string, v.Len())
			size := 0
			for i := range parts {
				s, ok := v.Index(i).Interface().(string)
				if !ok {
					return "", fmt.Errorf("join: item %d is %s, not a string", i, Describe(v.Index(i).Interface()))
				}
				parts[i] = s
				size += len(s) + len(glue)
				if size > MaxExprBytes {
					return "", g.spend("join", size)
				}
			}
			if err := g.spend("join", size); err != nil {
				return "", err
			}
			return strings.Join(parts, glue), nil
		},
		String: func(v any) (string, error) {
			s := fmt.Sprintf("%v", v)
			return s, g.spend("string", len(s))
		},
		ToJSON: func(v any) (string, error) {
			b, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				return "", err
			}
			return string(b), g.spend("toJSON", len(b))
		},
		ToBase64: func(s string) (string, error) {
			if err := g.spend("toBase64", base64.StdEncoding.EncodedLen(len(s))); err != nil {
				return "", err
			}
			return base64.StdEncoding.EncodeToString([]byte(s)), nil
		},
		Add: func(a, b any) (any, error) {
			x, ok1 := a.(string)
			y, ok2 := b.(string)
			if ok1 && ok2 {
				if err := g.spend("+", len(x)+len(y)); err != nil {
					return nil, err
				}
				return x + y, nil
			}
			return runtime.Add(a, b), nil // numbers, times: as expr adds them
		},
		Step: g.step,
	}
}
