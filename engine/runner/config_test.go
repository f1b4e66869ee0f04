package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestBadConfig: a config or playbook the loader would have refused gives
// an error, never a panic. (A playbook whose steps do not make a graph has
// none: engine's BuildGraphs tests cover that.)
func TestBadConfig(t *testing.T) {
	t.Parallel()
	reg := registry(newCounter(nil).action("do"))
	fin := step("a", "do")
	fin.Finally = true
	stale := playbook(step("a", "do"))
	stale.Steps = append(stale.Steps, step("b", "do", "a"))
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no playbook", Config{Registry: reg}, "Config needs a Playbook"},
		{"no registry", Config{Playbook: playbook(step("a", "do"))}, "Config needs a Playbook and a Registry"},
		{"journal without run id", Config{Registry: reg, Playbook: playbook(step("a", "do")), StateDir: t.TempDir()}, "needs a RunID"},
		{"unknown action", Config{Registry: reg, Playbook: playbook(step("a", "nope"))}, `step "a": unknown action "nope"`},
		{"no graph", Config{Registry: reg, Playbook: &engine.Playbook{Name: "x", Steps: []*engine.Step{step("a", "do")}}}, "has no graph of its steps: load it with engine/loader, or call BuildGraphs"},
		{"stale graph", Config{Registry: reg, Playbook: stale}, "that matches its steps (they changed after BuildGraphs)"},
		{"id in steps and finally", Config{Registry: reg, Playbook: playbook(step("a", "do"), fin)}, `step id "a" is used in both`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Run(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || res != nil {
				t.Errorf("got %v, %v; want no result and an error with %q", res, err, tt.want)
			}
		})
	}
}

// TestNilValue: a nil `with` value counts as not given.
func TestNilValue(t *testing.T) {
	t.Parallel()
	act := &fnAction{spec: engine.ActionSpec{Name: "p", Params: []engine.Param{{Name: "x", Type: engine.TypeString, Default: "d"}}},
		run: func(_ context.Context, in *engine.StepInput) (engine.Outputs, error) {
			return engine.Outputs{"x": in.Params["x"]}, nil
		}}
	s := step("s", "p")
	s.With = map[string]engine.Value{"x": nil}
	res, err := Run(context.Background(), Config{Registry: registry(act), Playbook: playbook(s)})
	if rec, _ := res.Step("s"); err != nil || rec.Outputs["x"] != "d" {
		t.Errorf("got %v, %v; want the default", rec, err)
	}
}
