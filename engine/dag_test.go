package engine_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

func TestBuildGraphs(t *testing.T) {
	t.Parallel()
	st := func(id string, needs ...string) *engine.Step { return &engine.Step{ID: id, Action: "x", Needs: needs} }
	tests := []struct {
		name    string
		pb      *engine.Playbook
		want    string // error text; "" for none
		cycle   bool
		waves   [][]string
		finally [][]string
	}{
		{name: "main and finally", pb: &engine.Playbook{Name: "p",
			Steps:   []*engine.Step{st("a"), st("b", "a"), st("c", "a")},
			Finally: []*engine.Step{st("log"), st("mail", "log")}},
			waves: [][]string{{"a"}, {"b", "c"}}, finally: [][]string{{"log"}, {"mail"}}},
		{name: "no finally", pb: &engine.Playbook{Name: "p", Steps: []*engine.Step{st("a")}}, waves: [][]string{{"a"}}},
		{name: "cycle", pb: &engine.Playbook{Name: "p", Steps: []*engine.Step{st("a", "b"), st("b", "a")}},
			want: `playbook "p": dependency cycle: a -> b -> a`, cycle: true},
		{name: "finally cannot need a main step", pb: &engine.Playbook{Name: "p", Steps: []*engine.Step{st("a")}, Finally: []*engine.Step{st("log", "a")}},
			want: `playbook "p" finally: step "log" needs "a", which is not a step of this block: fix the name in needs`},
		{name: "nil step", pb: &engine.Playbook{Name: "p", Steps: []*engine.Step{nil}}, want: `playbook "p": step 1 has no id: give it one`},
		{name: "duplicate", pb: &engine.Playbook{Name: "p", Steps: []*engine.Step{st("a"), st("a")}}, want: `duplicate step id "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.pb.BuildGraphs()
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("BuildGraphs: got %v, want an error with %q", err, tt.want)
				}
				if errors.Is(err, engine.ErrCycle) != tt.cycle {
					t.Errorf("errors.Is(err, ErrCycle) = %v, want %v", !tt.cycle, tt.cycle)
				}
				if _, _, gerr := tt.pb.Graphs(); gerr == nil {
					t.Errorf("Graphs after a failed BuildGraphs: no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			main, fin, err := tt.pb.Graphs()
			if err != nil {
				t.Fatal(err)
			}
			if got := main.Waves(); !reflect.DeepEqual(got, tt.waves) {
				t.Errorf("main waves: got %v, want %v", got, tt.waves)
			}
			if got := fin.Waves(); !reflect.DeepEqual(got, tt.finally) {
				t.Errorf("finally waves: got %v, want %v", got, tt.finally)
			}
		})
	}
}

// TestGraphsRefuses: a playbook made by hand without BuildGraphs, or
// changed after it, has no graph to walk, and says what to do.
func TestGraphsRefuses(t *testing.T) {
	t.Parallel()
	pb := &engine.Playbook{Name: "p", Steps: []*engine.Step{{ID: "a", Action: "x"}}}
	if _, _, err := pb.Graphs(); err == nil || !strings.Contains(err.Error(), "call BuildGraphs once its steps are set") {
		t.Errorf("no graph: got %v", err)
	}
	if err := pb.BuildGraphs(); err != nil {
		t.Fatal(err)
	}
	pb.Steps = append(pb.Steps, &engine.Step{ID: "b", Action: "x", Needs: []string{"a"}})
	if _, _, err := pb.Graphs(); err == nil || !strings.Contains(err.Error(), "changed after BuildGraphs") {
		t.Errorf("stale graph: got %v", err)
	}
	if err := pb.BuildGraphs(); err != nil {
		t.Fatal(err)
	}
	if main, _, err := pb.Graphs(); err != nil || !reflect.DeepEqual(main.Waves(), [][]string{{"a"}, {"b"}}) {
		t.Errorf("rebuilt: got %v, %v", main, err)
	}
}
