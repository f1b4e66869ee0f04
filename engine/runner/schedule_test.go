package runner

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestParallelismBound holds every started step until as many as the bound
// run at once, then lets them go one by one: no more than the bound may
// ever be inside the action.
func TestParallelismBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		playbook, parallelism int
		want                  int
	}{
		{"playbook bound", 3, 0, 3},
		{"flag bound", 0, 2, 2},
		{"smaller of both", 4, 2, 2},
		{"smaller of both, playbook", 2, 5, 2},
		{"no bound", 0, 0, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGate()
			var steps []*engine.Step
			for i := range 10 {
				steps = append(steps, step(fmt.Sprintf("s%d", i), "gate"))
			}
			pb := playbook(steps...)
			pb.Concurrency = tt.playbook
			done := make(chan *Result)
			go func() {
				res, _ := Run(context.Background(), Config{Registry: registry(g.action("gate")), Playbook: pb, Parallelism: tt.parallelism})
				done <- res
			}()
			var held []*call
			for range tt.want {
				held = append(held, <-g.calls)
			}
			for released := 0; released < 10; released++ {
				held[0].answer(nil, nil)
				held = held[1:]
				if released+tt.want < 10 {
					held = append(held, <-g.calls)
				}
			}
			res := <-done
			if res.Status != engine.RunSucceeded {
				t.Fatalf("status = %s, want succeeded", res.Status)
			}
			if maxIn, total := g.stats(); maxIn != tt.want || total != 10 {
				t.Errorf("max inside = %d, runs = %d; want %d, 10", maxIn, total, tt.want)
			}
		})
	}
}

// TestFailureIsolation: a failure skips its dependents (through skipped
// steps too), lets independent branches run, and fails the run.
func TestFailureIsolation(t *testing.T) {
	t.Parallel()
	c := newCounter(func(in *engine.StepInput) (engine.Outputs, error) {
		if in.StepID == "a" {
			return nil, errBoom
		}
		return engine.Outputs{}, nil
	})
	pb := playbook(step("a", "do"), step("b", "do", "a"), step("c", "do", "b"),
		step("d", "do"), step("e", "do", "d"), step("f", "do", "c", "e"))
	res, err := Run(context.Background(), Config{Registry: registry(c.action("do")), Playbook: pb})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := map[string]string{
		"a": "failed",
		"b": `skipped: needs "a" failed`,
		"c": `skipped: needs "b", skipped because "a" failed`,
		"d": "succeeded",
		"e": "succeeded",
		"f": `skipped: needs "c", skipped because "a" failed`,
	}
	if got := statuses(res); !maps.Equal(got, want) {
		t.Errorf("statuses:\n got %v\nwant %v", got, want)
	}
	if res.Status != engine.RunFailed {
		t.Errorf("run status = %s, want failed", res.Status)
	}
	if a, _ := res.Step("a"); a.Error != "boom" {
		t.Errorf("a's error = %q, want %q", a.Error, "boom")
	}
	for _, id := range []string{"b", "c", "f"} {
		if n := c.count(id); n != 0 {
			t.Errorf("%s ran %d times, want 0", id, n)
		}
	}
}

// TestWhen covers when true and false, always(), failed(), succeeded(),
// continue_on_error, and a when-skipped need counting as fine.
func TestWhen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		failA   bool
		coe     bool
		when    string
		want    string
		wantRun engine.RunStatus
	}{
		{"true", false, false, "inputs.flag", "succeeded", engine.RunSucceeded},
		{"false", false, false, "!inputs.flag", `skipped: inputs.flag is true`, engine.RunSucceeded},
		{"need failed", true, false, "inputs.flag", `skipped: needs "a" failed`, engine.RunFailed},
		{"always after failure", true, false, "always()", "succeeded", engine.RunFailed},
		{"failed after failure", true, false, "failed()", "succeeded", engine.RunFailed},
		{"failed after success", false, false, "failed()", `skipped: no step it needs failed`, engine.RunSucceeded},
		{"succeeded after success", false, false, "succeeded()", "succeeded", engine.RunSucceeded},
		{"always and succeeded after failure", true, false, "always() && succeeded()", `skipped: a step it needs failed`, engine.RunFailed},
		{"continue_on_error", true, true, "succeeded()", "succeeded", engine.RunSucceeded},
		{"reads a need's status", true, false, `always() && steps.a.status == "failed"`, "succeeded", engine.RunFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter(func(in *engine.StepInput) (engine.Outputs, error) {
				if in.StepID == "a" && tt.failA {
					return nil, errBoom
				}
				return engine.Outputs{}, nil
			})
			a, b := step("a", "do"), step("b", "do", "a")
			a.ContinueOnError = tt.coe
			b.When = cond(t, tt.when)
			res, err := Run(context.Background(), Config{Registry: registry(c.action("do")), Playbook: playbook(a, b),
				Inputs: map[string]any{"flag": true}})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := statuses(res)["b"]; got != tt.want {
				t.Errorf("b = %q, want %q", got, tt.want)
			}
			if res.Status != tt.wantRun {
				t.Errorf("run = %s, want %s", res.Status, tt.wantRun)
			}
			if ran := c.count("b") == 1; ran != (tt.want == "succeeded") {
				t.Errorf("b ran = %v, want %v", ran, !ran)
			}
		})
	}
}

// TestSkippedByWhenIsFine: a step skipped by its condition does not skip
// its dependents; it is not a failure.
func TestSkippedByWhenIsFine(t *testing.T) {
	t.Parallel()
	c := newCounter(nil)
	mem, stop := step("memory", "do"), step("stop", "do", "memory")
	mem.When = cond(t, "inputs.capture")
	res, err := Run(context.Background(), Config{Registry: registry(c.action("do")), Playbook: playbook(mem, stop),
		Inputs: map[string]any{"capture": false}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := map[string]string{"memory": `skipped: inputs.capture is false`, "stop": "succeeded"}
	if got := statuses(res); !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestWhenError: a condition that fails to evaluate fails the step.
func TestWhenError(t *testing.T) {
	t.Parallel()
	a := step("a", "do")
	a.When = cond(t, `inputs.list[5] == "x"`)
	res, err := Run(context.Background(), Config{Registry: registry(newCounter(nil).action("do")), Playbook: playbook(a),
		Inputs: map[string]any{"list": []any{"a"}}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got, _ := res.Step("a")
	if got.Status != engine.StatusFailed || got.Error == "" {
		t.Errorf("a = %s %q, want failed with an error", got.Status, got.Error)
	}
}

// TestPanic: a panicking action fails its step with the stack recorded.
func TestPanic(t *testing.T) {
	t.Parallel()
	act := &fnAction{spec: engine.ActionSpec{Name: "bad"}, run: func(context.Context, *engine.StepInput) (engine.Outputs, error) {
		var m map[string]int
		//lint:ignore SA5000 a real runtime panic is what this test needs
		m["x"] = 1 // a nil map write: a real runtime panic
		return nil, nil
	}}
	other := newCounter(nil)
	pb := playbook(step("p", "bad"), step("q", "ok"))
	pb.Steps[0].Retries = 3
	res, err := Run(context.Background(), Config{Registry: registry(act, other.action("ok")), Playbook: pb})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	p, _ := res.Step("p")
	if p.Status != engine.StatusFailed || p.Attempts != 1 {
		t.Fatalf("p = %s after %d attempts, want failed after 1", p.Status, p.Attempts)
	}
	for _, want := range []string{`action "bad" panicked: assignment to entry in nil map`, "goroutine ", "schedule_test.go"} {
		if !strings.Contains(p.Error, want) {
			t.Errorf("error lacks %q:\n%s", want, p.Error)
		}
	}
	if q, _ := res.Step("q"); q.Status != engine.StatusSucceeded {
		t.Errorf("q = %s, want succeeded", q.Status)
	}
}
