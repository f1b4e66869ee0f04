package runner

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestForEachOrder: items finish in reverse order, yet the outputs are in
// item order; a later step reads them.
func TestForEachOrder(t *testing.T) {
	t.Parallel()
	g := newGate()
	host := engine.Param{Name: "host", Type: engine.TypeString}
	s := step("mem", "gate")
	s.ForEach = list(t, "inputs.hosts")
	s.With = with(t, map[string]any{"host": "${{ item }}-${{ index }}"})
	var got any
	sum := &fnAction{spec: engine.ActionSpec{Name: "sum", Params: []engine.Param{{Name: "x", Type: engine.TypeAny}}},
		run: func(_ context.Context, in *engine.StepInput) (engine.Outputs, error) {
			got = in.Params["x"]
			return nil, nil
		}}
	after := step("after", "sum", "mem")
	after.With = with(t, map[string]any{"x": "${{ map(steps.mem.outputs.items, .host) }}"})
	done := make(chan *Result)
	go func() {
		res, _ := Run(context.Background(), Config{Registry: registry(g.action("gate", host), sum), Playbook: playbook(s, after),
			Inputs: map[string]any{"hosts": []any{"a", "b", "c"}}})
		done <- res
	}()
	calls := map[int]*call{}
	for range 3 {
		c := <-g.calls
		calls[c.in.ItemIndex] = c
	}
	for i := 2; i >= 0; i-- {
		calls[i].answer(engine.Outputs{"host": calls[i].in.Params.String("host")}, nil)
	}
	res := <-done
	want := []any{"a-0", "b-1", "c-2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outputs seen by the next step = %v, want %v", got, want)
	}
	rec, _ := res.Step("mem")
	if rec.Status != engine.StatusSucceeded || len(rec.Items) != 3 {
		t.Fatalf("mem = %s with %d items, want succeeded with 3", rec.Status, len(rec.Items))
	}
	for i, it := range rec.Items {
		if it.Outputs["host"] != want[i] || it.Status != engine.StatusSucceeded {
			t.Errorf("item %d = %s %v, want succeeded %v", i, it.Status, it.Outputs, want[i])
		}
	}
}

// TestForEachConcurrency: a step's concurrency bounds its items, and a
// failed item fails the step but not the other items.
func TestForEachConcurrency(t *testing.T) {
	t.Parallel()
	for _, bound := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(bound), func(t *testing.T) {
			t.Parallel()
			g := newGate()
			s := step("fan", "gate")
			s.ForEach = list(t, "[1, 2, 3, 4, 5, 6, 7]")
			s.Concurrency = bound
			done := make(chan *Result)
			go func() {
				res, _ := Run(context.Background(), Config{Registry: registry(g.action("gate")), Playbook: playbook(s)})
				done <- res
			}()
			var held []*call
			for range bound {
				held = append(held, <-g.calls)
			}
			for n := 0; n < 7; n++ {
				var err error
				if held[0].in.ItemIndex == 4 {
					err = errBoom
				}
				held[0].answer(engine.Outputs{}, err)
				held = held[1:]
				if n+bound < 7 {
					held = append(held, <-g.calls)
				}
			}
			res := <-done
			if maxIn, total := g.stats(); maxIn != bound || total != 7 {
				t.Errorf("max inside = %d, runs = %d; want %d, 7", maxIn, total, bound)
			}
			rec, _ := res.Step("fan")
			if rec.Status != engine.StatusFailed || rec.Error != "1 of 7 items failed" {
				t.Errorf("fan = %s %q, want failed \"1 of 7 items failed\"", rec.Status, rec.Error)
			}
			for i, it := range rec.Items {
				want := engine.StatusSucceeded
				if i == 4 {
					want = engine.StatusFailed
				}
				if it.Status != want {
					t.Errorf("item %d = %s, want %s", i, it.Status, want)
				}
			}
		})
	}
}

// TestForEachEmpty: no items is a success with an empty list.
func TestForEachEmpty(t *testing.T) {
	t.Parallel()
	s := step("fan", "do")
	s.ForEach = list(t, "inputs.none")
	res, err := Run(context.Background(), Config{Registry: registry(newCounter(nil).action("do")), Playbook: playbook(s),
		Inputs: map[string]any{"none": []any{}}})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := res.Step("fan")
	if items, ok := rec.Outputs["items"].([]any); rec.Status != engine.StatusSucceeded || !ok || len(items) != 0 {
		t.Errorf("fan = %s %v, want succeeded with items []", rec.Status, rec.Outputs)
	}
}

// TestForEachTooMany: a list past the bound fails the step, cleanly.
func TestForEachTooMany(t *testing.T) {
	t.Parallel()
	s := step("fan", "do")
	s.ForEach = list(t, "inputs.many")
	many := make([]any, maxItems+1)
	res, err := Run(context.Background(), Config{Registry: registry(newCounter(nil).action("do")), Playbook: playbook(s),
		Inputs: map[string]any{"many": many}})
	if err != nil {
		t.Fatal(err)
	}
	if rec, _ := res.Step("fan"); rec.Status != engine.StatusFailed || rec.Error != `for_each "inputs.many" gave 65537 items, more than 65536; split the list` {
		t.Errorf("fan = %s %q", rec.Status, rec.Error)
	}
}
