package engine_test

import (
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestWhyFalse: a skip reason names the part of the condition that was
// false and the values it compared, in the words the plan and the run
// both print.
func TestWhyFalse(t *testing.T) {
	t.Parallel()
	e := env()
	e.Inputs["terminate"] = false
	e.Inputs["mode"] = "stop"
	e.Inputs["dry"] = true
	e.Inputs["esc"] = "a\x1b[2Jb"
	e.Steps["sockets"] = engine.StepEnv{Status: "succeeded"}
	tests := []struct{ name, cond, want string }{
		{"bare input", "inputs.terminate", "inputs.terminate is false"},
		{"step status", `steps.sockets.status == "failed"`, `steps.sockets.status is "succeeded", not "failed"`},
		{"first false part of a chain", `inputs.n > 1 && inputs.terminate && steps.sockets.status == "failed"`, "inputs.terminate is false"},
		{"not", `!(inputs.n == 3)`, "inputs.n == 3 is true"},
		{"not a ref", `not inputs.dry`, `inputs.dry is true`},
		{"not equal", `inputs.mode != "stop"`, `inputs.mode is "stop"`},
		{"order", `inputs.n >= 5`, "inputs.n is 3, not >= 5"},
		{"two refs", `inputs.name == inputs.mode`, `inputs.name is "web" and inputs.mode is "stop"`},
		{"in a list", `inputs.mode in ["terminate", "hibernate"]`, `inputs.mode is "stop", not in ["terminate", "hibernate"]`},
		{"either", `inputs.terminate || inputs.mode == "terminate"`, `inputs.terminate is false and inputs.mode is "stop", not "terminate"`},
		{"failed()", "failed()", "no step it needs failed"},
		{"a call", `len(inputs.ids) > 2`, "len(inputs.ids) is 2, not > 2"},
		{"control characters quoted", `inputs.esc == "x"`, `inputs.esc is "a\x1b[2Jb", not "x"`},
		{"step output", `steps.find.outputs.count == 3`, `steps.find.outputs.count is 2, not 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := engine.CompileExpr(tt.cond, engine.ExprBool)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.WhyFalse(e); got != tt.want {
				t.Errorf("WhyFalse(%s):\n got  %s\n want %s", tt.cond, got, tt.want)
			}
		})
	}
}

// TestWhyFalseCutsLongValues: a reason stays one short line, whatever a
// step gave.
func TestWhyFalseCutsLongValues(t *testing.T) {
	t.Parallel()
	e := env()
	long := make([]any, 100)
	for i := range long {
		long[i] = "i-0123456789abcdef0"
	}
	e.Inputs["ids"] = long
	w, _ := engine.CompileExpr(`len(inputs.ids) == 0 || inputs.ids == []`, engine.ExprBool)
	got := w.WhyFalse(e)
	if len(got) > 200 {
		t.Errorf("got %d bytes: %s", len(got), got)
	}
}
