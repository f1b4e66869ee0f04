package engine_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestExprBudgets performs the attacks a hostile playbook (or a value an
// attacker chose, read by an expression) can make on the evaluator: each
// ends with an error naming the bound, without making the memory it asks
// for and without running on. The bounded builtins still do their work.
func TestExprBudgets(t *testing.T) {
	t.Parallel()
	attacks := []struct{ name, src, want string }{
		{"repeat of a repeat", `repeat(repeat("a",999999),999999)`, "repeat would make"},
		{"doubling a string", `reduce(1..50, #acc+#acc, "ab")`, "+ would make"},
		{"doubling through an input", `reduce(1..50, #acc + #acc, inputs.name)`, "+ would make"},
		{"a 900,000-step reduce", `reduce(1..900000, #acc + 1, 0) > 0`, "more than 100000 steps"},
		{"nested loops over one range", `let r = 1..999; reduce(r, reduce(r, reduce(r, #acc + 1, 0), 0), 0)`, "more than 100000 steps"},
		{"replace that multiplies", `replace(repeat("a", 1000000), "a", repeat("b", 1000))`, "replace would make"},
		{"JSON of itself", `reduce(1..60, toJSON([#acc, #acc]), "x")`, "toJSON would make"},
		{"string of itself", `reduce(1..60, string([#acc, #acc]), "x")`, "string would make"},
		{"base64 of itself", `reduce(1..60, toBase64(#acc + #acc), "x")`, "would make"},
		{"join of many", `join(map(1..50000, repeat("a", 1000)))`, "would make"},
		{"too many values", `map(1..2000000, #)`, "more than 1000000 values"},
	}
	for _, tt := range attacks {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := engine.CompileExpr(tt.src, engine.ExprAny)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			v, err := e.Eval(env())
			if !errors.Is(err, engine.ErrExprBudget) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Eval: %v (value of %d chars), want %v naming %q", err, len(engine.Format(v)), engine.ErrExprBudget, tt.want)
			}
		})
	}

	works := []struct {
		src  string
		want any
	}{
		{`"a" + "b" + inputs.name`, "abweb"},
		{`inputs.n + 1`, 4},
		{`repeat("ab", 3)`, "ababab"},
		{`replace("a.b.c", ".", "::")`, "a::b::c"},
		{`replace("a.b.c", ".", "::", 1)`, "a::b.c"},
		{`join(inputs.ids, ",")`, "i-1,i-2"},
		{`join(["x", "y"])`, "xy"},
		{`string(inputs.n)`, "3"},
		{`toBase64("hi")`, "aGk="},
		{`toJSON([1])`, "[\n  1\n]"},
		{`len(filter(1..10, # > 5))`, 5},
		{`reduce(1..99999, #acc + 1, 0)`, 99999},
		{`now() + duration("1h") > now()`, true},
	}
	for _, tt := range works {
		e, err := engine.CompileExpr(tt.src, engine.ExprAny)
		if err != nil {
			t.Errorf("%s: compile: %v", tt.src, err)
			continue
		}
		if got, err := e.Eval(env()); err != nil || got != tt.want {
			t.Errorf("%s: got %#v, %v; want %#v", tt.src, got, err, tt.want)
		}
	}
	// A type error is still found at load time, not left to the run.
	if _, err := engine.CompileExpr(`"a" + 1`, engine.ExprAny); err == nil {
		t.Errorf(`"a" + 1 compiled; want a type error`)
	}
}

// TestExprStops: an evaluation whose loops are slow but within the step
// bound ends at its next step once Env.Stop says the run is interrupted,
// so an interrupted run is not held by an expression.
func TestExprStops(t *testing.T) {
	t.Parallel()
	// Each of the 90,000 steps reads 300,000 numbers: minutes of work.
	e, err := engine.CompileExpr(`let r = 1..300000; reduce(1..90000, #acc + max(r), 0) > 0`, engine.ExprBool)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	en := env()
	en.Stop = stop.Load
	done := make(chan error, 1)
	go func() { _, err := e.EvalBool(en); done <- err }()
	time.Sleep(100 * time.Millisecond) // well into the loop
	stop.Store(true)
	select {
	case err := <-done:
		if !errors.Is(err, engine.ErrExprStopped) {
			t.Fatalf("EvalBool: %v, want %v", err, engine.ErrExprStopped)
		}
	case <-time.After(time.Minute): // a guard against a hang, not a timing
		t.Fatal("the evaluation did not stop")
	}
}

// FuzzExpr compiles and evaluates any source against the environment with
// the budgets: an error is fine, a panic, a hang or an allocation the
// budgets did not account is not (go test -fuzz reports each).
func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		`repeat(repeat("a",999999),999999)`, `reduce(1..50, #acc+#acc, "ab")`, `inputs.n + 1`,
		`join(inputs.ids, ",")`, `replace(inputs.csv, ",", "::")`, `toJSON(steps)`, `string(finding)`,
		`map(inputs.ids, # + "-x")`, `steps.find.outputs.region == "eu-west-1" && always()`,
		`let r = 1..999; reduce(r, reduce(r, #acc + 1, 0), 0)`, `filter(1..10, # % 2 == 0)`, `toBase64(repeat("x", 100))`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, kind := range []engine.ExprKind{engine.ExprAny, engine.ExprBool, engine.ExprList} {
			e, err := engine.CompileExpr(src, kind)
			if err != nil {
				continue
			}
			start := time.Now()
			v, err := e.Eval(env())
			if err == nil && len(engine.Format(v)) > 8*engine.MaxExprBytes {
				t.Fatalf("%q made %d bytes", src, len(engine.Format(v)))
			}
			if took := time.Since(start); took > engine.MaxExprTime+5*time.Second {
				t.Fatalf("%q ran %s", src, took)
			}
		}
	})
}
