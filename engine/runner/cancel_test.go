package runner

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestCancellation: once ctx is done nothing new starts, the running step
// sees its ctx cancelled, and the run ends interrupted and resumable.
func TestCancellation(t *testing.T) {
	t.Parallel()
	g := newGate()
	other := newCounter(nil)
	pb := playbook(step("a", "gate"), step("b", "other"), step("c", "other", "a"))
	pb.Concurrency = 1 // b waits for a's slot: it must never start
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type out struct {
		res *Result
		err error
	}
	done := make(chan out)
	rec := newRecorder()
	go func() {
		res, err := Run(ctx, Config{Registry: registry(g.action("gate"), other.action("other")), Playbook: pb, Case: rec})
		done <- out{res, err}
	}()
	c := <-g.calls
	cancel()
	<-c.ctx.Done() // the running step sees the cancellation
	o := <-done
	if !errors.Is(o.err, engine.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", o.err)
	}
	if o.res.Status != engine.RunInterrupted {
		t.Errorf("status = %s, want interrupted", o.res.Status)
	}
	want := map[string]string{"a": "cancelled", "b": "pending", "c": "pending"}
	if got := statuses(o.res); !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if n := other.count("b") + other.count("c"); n != 0 {
		t.Errorf("%d steps started after the cancellation, want 0", n)
	}
	if rec.has("step.started b") {
		t.Error("custody says b started")
	}
}

// TestFinally: finally steps run after every main step ended, after a
// success, a failure and an interruption, and see the main steps' state.
func TestFinally(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mainErr   error
		interrupt bool
		want      engine.RunStatus
		wantSeen  string
	}{
		{"after success", nil, false, engine.RunSucceeded, "succeeded"},
		{"after failure", errBoom, false, engine.RunFailed, "failed"},
		{"after interruption", nil, true, engine.RunInterrupted, "cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			main := &fnAction{spec: engine.ActionSpec{Name: "main"}, run: func(ctx context.Context, _ *engine.StepInput) (engine.Outputs, error) {
				if tt.interrupt {
					cancel()
					<-ctx.Done()
					return nil, ctx.Err()
				}
				return engine.Outputs{}, tt.mainErr
			}}
			var seen []string
			report := &fnAction{spec: engine.ActionSpec{Name: "report", Params: []engine.Param{{Name: "status", Type: engine.TypeString}}},
				run: func(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					seen = append(seen, in.StepID+"="+in.Params.String("status"))
					return engine.Outputs{}, nil
				}}
			f1, f2 := step("f1", "report"), step("f2", "report", "f1")
			f1.Finally, f2.Finally = true, true
			f1.With = with(t, map[string]any{"status": "${{ steps.a.status }}"})
			f2.With = with(t, map[string]any{"status": "${{ steps.f1.status }}"})
			res, _ := Run(ctx, Config{Registry: registry(main, report), Playbook: playbook(step("a", "main"), f1, f2)})
			if res.Status != tt.want {
				t.Errorf("status = %s, want %s", res.Status, tt.want)
			}
			want := []string{"f1=" + tt.wantSeen, "f2=succeeded"}
			if len(seen) != 2 || seen[0] != want[0] || seen[1] != want[1] {
				t.Errorf("finally saw %v, want %v", seen, want)
			}
		})
	}
}

// TestFinallyFailureFailsRun: a failed finally step fails the run.
func TestFinallyFailureFailsRun(t *testing.T) {
	t.Parallel()
	c := newCounter(func(in *engine.StepInput) (engine.Outputs, error) {
		if in.StepID == "f" {
			return nil, errBoom
		}
		return engine.Outputs{}, nil
	})
	f := step("f", "do")
	f.Finally = true
	res, err := Run(context.Background(), Config{Registry: registry(c.action("do")), Playbook: playbook(step("a", "do"), f)})
	if err != nil || res.Status != engine.RunFailed {
		t.Errorf("got %v, %v; want failed, nil", res.Status, err)
	}
}
