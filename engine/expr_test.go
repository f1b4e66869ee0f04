package engine_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// env is a run's environment as an expression sees it.
func env() *engine.Env {
	return &engine.Env{
		Inputs: map[string]any{"n": 3, "ids": []any{"i-1", "i-2"}, "csv": "a,b", "name": "web"},
		Steps: map[string]engine.StepEnv{
			"find": {Status: "succeeded", Outputs: map[string]any{"region": "eu-west-1", "count": 2}},
		},
		Case:    map[string]any{"id": "cr-1"},
		Finding: map[string]any{"type": "Backdoor:EC2/C&CActivity.B"},
		Always:  func() bool { return true }, Failed: func() bool { return false }, Succeeded: func() bool { return true },
	}
}

// TestCompileExprKinds: an expression compiles once against the typed
// environment, records what it refers to (for the loader's checks), and
// runs with the live environment as its kind says.
func TestCompileExprKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		src         string
		kind        engine.ExprKind
		want        any
		inputs      []string
		steps       []string
		usesAlways  bool
		usesFinding bool
	}{
		{"value keeps its type", "inputs.n + steps.find.outputs.count", engine.ExprAny, 5, []string{"n"}, []string{"find"}, false, false},
		{"refs once, in order of first use", "inputs.name + inputs.csv + inputs.name", engine.ExprAny, "weba,bweb", []string{"name", "csv"}, nil, false, false},
		{"condition", "steps.find.status == 'succeeded' && inputs.n > 2", engine.ExprBool, true, []string{"n"}, []string{"find"}, false, false},
		{"always() lets a step run after a failure", "always()", engine.ExprBool, true, nil, nil, true, false},
		{"failed() too", "failed() || inputs.n == 3", engine.ExprBool, true, []string{"n"}, nil, true, false},
		{"succeeded() does not", "succeeded()", engine.ExprBool, true, nil, nil, false, false},
		{"finding", "finding.type startsWith 'Backdoor'", engine.ExprBool, true, nil, nil, false, true},
		{"incident reads the finding too", "incident.instance_id ?? 'none'", engine.ExprAny, "none", nil, nil, false, true},
		{"for_each list", "inputs.ids", engine.ExprList, []any{"i-1", "i-2"}, []string{"ids"}, nil, false, false},
		{"for_each of a comma string is a list", "inputs.csv", engine.ExprList, []any{"a", "b"}, []string{"csv"}, nil, false, false},
		{"case and run", "case.id", engine.ExprAny, "cr-1", nil, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := engine.CompileExpr(tt.src, tt.kind)
			if err != nil {
				t.Fatalf("CompileExpr(%q): %v", tt.src, err)
			}
			if e.Source != tt.src || e.Kind != tt.kind || !reflect.DeepEqual(e.Inputs, tt.inputs) || !reflect.DeepEqual(e.Steps, tt.steps) ||
				e.UsesAlways != tt.usesAlways || e.UsesFinding != tt.usesFinding {
				t.Errorf("compiled %+v; want inputs %q, steps %q, always %v, finding %v", e, tt.inputs, tt.steps, tt.usesAlways, tt.usesFinding)
			}
			got, err := e.Eval(env())
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Eval: got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

// TestCompileExprErrors: a compile error carries its line and column in
// the expression (1-based), for the loader to shift into the YAML.
func TestCompileExprErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		src        string
		kind       engine.ExprKind
		line, col  int
		msgHolding string
	}{
		{"unfinished", "inputs.n +", engine.ExprAny, 1, 10, "unexpected token EOF"},
		{"second line", "inputs.n\n  + )", engine.ExprAny, 2, 5, `unexpected token Bracket(")")`},
		{"unknown name", "nope.x", engine.ExprAny, 1, 1, "unknown name nope"},
		{"condition not bool", "1 + 1", engine.ExprBool, 1, 1, "expected bool, but got int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := engine.CompileExpr(tt.src, tt.kind)
			var ee *engine.ExprError
			if !errors.As(err, &ee) {
				t.Fatalf("CompileExpr(%q): got %v, want an *ExprError", tt.src, err)
			}
			if ee.Line != tt.line || ee.Col != tt.col || !strings.Contains(ee.Msg, tt.msgHolding) || ee.Error() != ee.Msg {
				t.Errorf("got %d:%d %q, want %d:%d holding %q", ee.Line, ee.Col, ee.Msg, tt.line, tt.col, tt.msgHolding)
			}
		})
	}
}

// TestEvalErrors: what only the live environment shows fails the step
// with the expression named.
func TestEvalErrors(t *testing.T) {
	t.Parallel()
	list, _ := engine.CompileExpr("inputs.n", engine.ExprList)
	if _, err := list.Eval(env()); err == nil || err.Error() != `for_each "inputs.n": want list, got int 3` {
		t.Errorf("for_each of an int: got %v", err)
	}
	cond, _ := engine.CompileExpr("inputs.name", engine.ExprAny)
	if _, err := cond.EvalBool(env()); err == nil || err.Error() != `condition "inputs.name" gave string "web", want bool` {
		t.Errorf("EvalBool of a string: got %v", err)
	}
	div, _ := engine.CompileExpr("inputs.ids[5]", engine.ExprAny)
	if _, err := div.Eval(env()); err == nil || !strings.HasPrefix(err.Error(), `evaluating "inputs.ids[5]": `) {
		t.Errorf("index out of range: got %v, want it named", err)
	}
}

// TestCompileStringKinds: a string is a Literal without ${{ }}, a Whole
// when it is exactly one expression (its value keeps its type), and an
// Interp otherwise (formatted into the text).
func TestCompileStringKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		kind string
		want any
	}{
		{"literal", "plain text", "engine.Literal", "plain text"},
		{"literal with a lone $", "cost: $5 {x}", "engine.Literal", "cost: $5 {x}"},
		{"whole keeps an int", "${{ inputs.n }}", "engine.Whole", 3},
		{"whole keeps a list", "  ${{inputs.ids}}  ", "engine.Whole", []any{"i-1", "i-2"}},
		{"interpolation formats", "n=${{ inputs.n }} ids=${{ inputs.ids }}", "engine.Interp", `n=3 ids=["i-1","i-2"]`},
		{"text around one expression", "i-${{ inputs.name }}", "engine.Interp", "i-web"},
		{"null formats as empty", "[${{ steps.find.outputs.missing }}]", "engine.Interp", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := engine.CompileString(tt.in)
			if err != nil {
				t.Fatalf("CompileString(%q): %v", tt.in, err)
			}
			if got := reflect.TypeOf(v).String(); got != tt.kind {
				t.Errorf("CompileString(%q) is a %s, want %s", tt.in, got, tt.kind)
			}
			got, err := v.Eval(env())
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Eval: got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

// TestCompileStringErrors: a template error gives the byte offset in the
// string where the failing expression's source starts (or where ${{ is,
// when it is not closed or empty).
func TestCompileStringErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		offset  int
		msg     string
		hasExpr bool // the cause is an *ExprError with its own position
	}{
		{"unclosed", "a ${{ inputs.n", 2, `unclosed ${{: want }} after "${{ inputs.n"`, false},
		{"empty", "a ${{  }} b", 2, "empty expression ${{ }}", false},
		{"bad expression", "ab ${{ inputs. }}", 6, "unexpected end of expression", true},
		{"second of two", "${{ inputs.n }} ${{ inputs.n +  }}", 19, "unexpected token EOF", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := engine.CompileString(tt.in)
			var te *engine.TemplateError
			if !errors.As(err, &te) || te.Offset != tt.offset || err.Error() != tt.msg {
				t.Fatalf("CompileString(%q): got %#v (%v), want offset %d, %q", tt.in, te, err, tt.offset, tt.msg)
			}
			var ee *engine.ExprError
			if errors.As(err, &ee) != tt.hasExpr {
				t.Errorf("cause is an ExprError: %v, want %v", !tt.hasExpr, tt.hasExpr)
			}
		})
	}
}

// TestCompileValue: a decoded YAML value is compiled all the way down;
// lists and maps keep their shape, their expressions are found in order
// (map keys sorted), and an error inside is the string's.
func TestCompileValue(t *testing.T) {
	t.Parallel()
	v, err := engine.CompileValue(map[string]any{
		"b":     []any{"${{ inputs.n }}", "x-${{ inputs.name }}", 7, true, nil},
		"a":     "${{ case.id }}",
		"inner": map[string]any{"k": "${{ inputs.ids }}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var srcs []string
	for _, e := range v.Exprs() {
		srcs = append(srcs, e.Source)
	}
	if want := []string{" case.id ", " inputs.n ", " inputs.name ", " inputs.ids "}; !reflect.DeepEqual(srcs, want) {
		t.Errorf("Exprs: got %q, want %q", srcs, want)
	}
	got, err := v.Eval(env())
	want := map[string]any{"a": "cr-1", "b": []any{3, "x-web", 7, true, nil}, "inner": map[string]any{"k": []any{"i-1", "i-2"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Eval: got %#v, %v; want %#v", got, err, want)
	}
	if lit, _ := engine.CompileValue(42); !reflect.DeepEqual(lit, engine.Literal{V: 42}) || len(lit.Exprs()) != 0 {
		t.Errorf("CompileValue(42) = %#v, want Literal{42} without expressions", lit)
	}
	_, err = engine.CompileValue([]any{map[string]any{"k": "${{ inputs. }}"}})
	var te *engine.TemplateError
	if !errors.As(err, &te) || te.Offset != 3 {
		t.Errorf("nested error: got %v, want a TemplateError at offset 3", err)
	}
}
