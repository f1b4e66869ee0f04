package session_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
)

const askFirst = `
name: ask
steps:
  - id: first
    action: put
  - id: isolate
    action: put
    needs: first
    approve: "isolate now?"
`

// drain reads events until the channel closes, failing after a minute.
func drain(t *testing.T, events <-chan runner.StepEvent) []runner.StepEvent {
	t.Helper()
	var out []runner.StepEvent
	timeout := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return out
			}
			out = append(out, ev)
		case <-timeout:
			t.Fatal("events not closed within a minute of the run's end")
		}
	}
}

func has(events []runner.StepEvent, step string, status engine.StepStatus) bool {
	for _, ev := range events {
		if ev.Step == step && ev.Item < 0 && ev.Status == status {
			return true
		}
	}
	return false
}

// TestFollowAndApprove: two followers, one joining late, see the run; an
// approval is answered from another goroutine, as a console's button does.
func TestFollowAndApprove(t *testing.T) {
	t.Parallel()
	for _, yes := range []bool{true, false} {
		t.Run(fmt.Sprint("yes=", yes), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			ap := session.NewApprovals()
			asked := make(chan session.Question, 1)
			ap.OnAsk = func(q session.Question) { asked <- q }
			run, err := w.manager(nil).Start(t.Context(), &session.Request{Playbook: w.load(t, askFirst), Inputs: map[string]any{}, Evidence: somewhere, Approver: ap})
			if err != nil {
				t.Fatal(err)
			}
			early, stop := run.Follow(64)
			defer stop()
			waitFor(t, early, func(ev runner.StepEvent) bool { return ev.Step == "isolate" && ev.Status == engine.StatusWaiting })
			select {
			case <-asked:
			case <-time.After(time.Minute):
				t.Fatal("no question asked within a minute")
			}
			if q := ap.Pending(); len(q) != 1 || q[0].Step != "isolate" || q[0].Question != "isolate now?" {
				t.Fatalf("pending: %+v, want the isolate question", ap.Pending())
			}
			late, stopLate := run.Follow(64)
			defer stopLate()
			if got := run.Steps(); !has(got, "first", engine.StatusSucceeded) || !has(got, "isolate", engine.StatusWaiting) {
				t.Errorf("Steps() = %+v, want first succeeded and isolate waiting", got)
			}
			if err := ap.Answer("first", true); !errors.Is(err, session.ErrNoQuestion) {
				t.Errorf("answering a step that does not ask: %v, want ErrNoQuestion", err)
			}
			go func() {
				if err := ap.Answer("isolate", yes); err != nil {
					t.Errorf("Answer: %v", err)
				}
			}()
			out := run.Wait()
			want := engine.StatusSkipped
			if yes {
				want = engine.StatusSucceeded
			}
			if out.Status != engine.RunSucceeded {
				t.Fatalf("run: %q (%v), want succeeded", out.Status, out.Err)
			}
			lateEvents := drain(t, late)
			if len(lateEvents) < 2 || !has(lateEvents[:2], "first", engine.StatusSucceeded) || !has(lateEvents, "isolate", want) {
				t.Errorf("the late follower saw %+v: want first succeeded at once, then isolate %s", lateEvents, want)
			}
			if !has(drain(t, early), "isolate", want) {
				t.Errorf("the early follower did not see isolate %s", want)
			}
			if w.ran("isolate") != map[bool]int{true: 1, false: 0}[yes] {
				t.Errorf("isolate ran %d times with the answer %v", w.ran("isolate"), yes)
			}
			if len(ap.Pending()) != 0 {
				t.Errorf("questions left pending: %+v", ap.Pending())
			}
		})
	}
}

// TestSlowFollowerNeverStallsRun: a follower that never reads is dropped;
// the run goes on to its end.
func TestSlowFollowerNeverStallsRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var b strings.Builder
	b.WriteString("name: many\nsteps:\n")
	for i := range 40 {
		fmt.Fprintf(&b, "  - id: s%d\n    action: flaky\n", i)
	}
	run, err := w.manager(nil).Start(t.Context(), &session.Request{Playbook: w.load(t, b.String()), Inputs: map[string]any{}, Evidence: somewhere})
	if err != nil {
		t.Fatal(err)
	}
	stuck, stop := run.Follow(1)
	defer stop()
	select {
	case <-run.Done():
	case <-time.After(time.Minute):
		t.Fatal("the run did not end: a follower that does not read stalled it")
	}
	if got := len(drain(t, stuck)); got > 2 {
		t.Errorf("the stuck follower got %d events, want at most its buffer (then dropped)", got)
	}
	if out := run.Wait(); out.Status != engine.RunSucceeded {
		t.Errorf("run: %q, want succeeded", out.Status)
	}
}

// remote is a backend whose steps "run elsewhere": it opens the case
// itself, as a worker would, which the store's lock allows only once the
// session has let go of it.
type remote struct {
	session.Local
	store   evidence.Store
	gotCase engine.Recorder
}

func (r *remote) InProcess() bool { return false }

func (r *remote) Run(ctx context.Context, job *session.Job, pb *engine.Playbook, h session.Hooks) (*runner.Result, error) {
	r.gotCase = h.Case
	cs, err := evidence.OpenCase(ctx, r.store, evidence.Header{CaseID: job.CaseID, RunID: job.RunID, Playbook: job.Playbook, Inputs: job.Inputs}, nil)
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	defer cs.Close() // a worker never seals: the session does
	h.Case = cs
	return r.Local.Run(ctx, job, pb, h)
}

// TestBackendElsewhere: with a backend that is not InProcess, the session
// lets go of the case for the run and takes it back to seal it with the
// backend's step records.
func TestBackendElsewhere(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	m := w.manager(nil)
	be := &remote{Local: session.Local{Registry: w.reg}, store: w.store}
	m.Backend = be
	run, err := m.Start(t.Context(), &session.Request{Playbook: w.load(t, twoSteps), Inputs: map[string]any{}, Evidence: somewhere})
	if err != nil {
		t.Fatal(err)
	}
	out := run.Wait()
	if out.Status != engine.RunSucceeded || out.Manifest == nil {
		t.Fatalf("run: %q, %v; want succeeded and sealed", out.Status, out.Err)
	}
	if be.gotCase != nil {
		t.Errorf("the backend got the session's case %v, want none", be.gotCase)
	}
	if got := out.Manifest.Steps; len(got) != 2 || got[0].Status != engine.StatusSucceeded || got[1].Status != engine.StatusSucceeded {
		t.Errorf("manifest steps %+v, want both succeeded", got)
	}
	if len(out.Manifest.Artifacts) != 2 {
		t.Errorf("manifest artifacts %+v, want the worker's two notes", out.Manifest.Artifacts)
	}
	verify(t, w.store, run.CaseID)
}
