package runner

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestApprove: yes runs the step, no skips it (with a custody event), and
// no approver at all stops the run there, resumable; other branches go on.
func TestApprove(t *testing.T) {
	t.Parallel()
	say := func(ok bool, err error) Approver {
		return ApproverFunc(func(context.Context, string, string) (bool, error) { return ok, err })
	}
	tests := []struct {
		name      string
		approver  Approver
		want      map[string]string
		wantRun   engine.RunStatus
		wantErr   error
		wantEvent string
	}{
		{"yes", AutoApprove, map[string]string{"a": "succeeded", "kill": "succeeded", "after": "succeeded", "side": "succeeded"},
			engine.RunSucceeded, nil, "step.approved kill"},
		{"no", say(false, nil), map[string]string{"a": "succeeded", "kill": "skipped: approval declined", "after": `skipped: needs "kill", which was declined`, "side": "succeeded"},
			engine.RunSucceeded, nil, "step.declined kill"},
		{"error", say(false, errors.New("no terminal")), map[string]string{"a": "succeeded", "kill": "failed", "after": `skipped: needs "kill" failed`, "side": "succeeded"},
			engine.RunFailed, nil, "step.failed kill"},
		{"none", nil, map[string]string{"a": "succeeded", "kill": "waiting", "after": "pending", "side": "succeeded"},
			engine.RunInterrupted, engine.ErrApprovalRequired, "step.waiting kill"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCounter(nil)
			kill := step("kill", "do", "a")
			kill.Approve = "terminate the instance?"
			rec := newRecorder()
			res, err := Run(context.Background(), Config{Registry: registry(c.action("do")), Case: rec, Approver: tt.approver,
				Playbook: playbook(step("a", "do"), kill, step("after", "do", "kill"), step("side", "do"))})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && !errors.Is(err, engine.ErrInterrupted) {
				t.Errorf("err = %v, want it to wrap ErrInterrupted too", err)
			}
			if got := statuses(res); !maps.Equal(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
			if res.Status != tt.wantRun {
				t.Errorf("run = %s, want %s", res.Status, tt.wantRun)
			}
			if !rec.has(tt.wantEvent) {
				t.Errorf("custody lacks %q: %v", tt.wantEvent, rec.events)
			}
			if ran := c.count("kill") == 1; ran != (tt.want["kill"] == "succeeded") {
				t.Errorf("kill ran = %v", ran)
			}
		})
	}
}

// TestDeclinedStopsDependents: what needs a declined step is skipped, and
// what needs that is skipped too, as GitHub Actions skips the jobs after a
// skipped job; always() in when lifts it, failed() stays false (nothing
// failed); a step skipped by its own when still counts as fine.
func TestDeclinedStopsDependents(t *testing.T) {
	t.Parallel()
	no := ApproverFunc(func(context.Context, string, string) (bool, error) { return false, nil })
	c := newCounter(nil)
	kill := step("kill", "do", "a")
	kill.Approve = "terminate?"
	report := step("report", "do", "kill")
	report.When = cond(t, "always() && !failed()")
	onFail := step("on-fail", "do", "kill")
	onFail.When = cond(t, "failed()")
	off := step("off", "do", "a")
	off.When = cond(t, "false")
	res, err := Run(context.Background(), Config{Registry: registry(c.action("do")), Approver: no,
		Playbook: playbook(step("a", "do"), kill, step("after", "do", "kill"), step("later", "do", "after"),
			report, onFail, off, step("after-off", "do", "off"))})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "succeeded", "kill": "skipped: approval declined",
		"after":     `skipped: needs "kill", which was declined`,
		"later":     `skipped: needs "after", skipped because "kill" was declined`,
		"report":    "succeeded",
		"on-fail":   "skipped: no step it needs failed",
		"off":       `skipped: condition "false" is false`,
		"after-off": "succeeded"}
	if got := statuses(res); !maps.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if res.Status != engine.RunSucceeded {
		t.Errorf("run = %s, want succeeded: declining is not a failure", res.Status)
	}
}

// TestApproveResume: a run stopped at an approval asks again on resume.
func TestApproveResume(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := newCounter(nil)
	kill := step("kill", "do", "a")
	kill.Approve = "terminate?"
	cfg := Config{Registry: registry(c.action("do")), Playbook: playbook(step("a", "do"), kill), StateDir: dir, RunID: "run-approve"}
	if _, err := Run(context.Background(), cfg); !errors.Is(err, engine.ErrApprovalRequired) {
		t.Fatalf("Run: err = %v, want ErrApprovalRequired", err)
	}
	st, err := LoadJournal(dir, "run-approve")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != engine.RunInterrupted || st.Steps["kill"].Status != engine.StatusWaiting {
		t.Fatalf("journal: run %s, kill %s; want interrupted, waiting", st.Status, st.Steps["kill"].Status)
	}
	var asked []string
	cfg.Approver = ApproverFunc(func(_ context.Context, id, q string) (bool, error) {
		asked = append(asked, id+": "+q)
		return true, nil
	})
	res, err := Resume(context.Background(), cfg)
	if err != nil || res.Status != engine.RunSucceeded {
		t.Fatalf("Resume: %v, %v; want succeeded", res.Status, err)
	}
	if len(asked) != 1 || asked[0] != "kill: terminate?" {
		t.Errorf("asked %v, want [kill: terminate?]", asked)
	}
	if c.count("a") != 1 || c.count("kill") != 1 {
		t.Errorf("runs: a %d, kill %d; want 1, 1", c.count("a"), c.count("kill"))
	}
}

// TestApproveOneAtATime: two approve steps ready together are asked one
// after the other, never at once.
func TestApproveOneAtATime(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	cur, most := 0, 0
	asked := make(chan chan bool, 2)
	approver := ApproverFunc(func(ctx context.Context, _, _ string) (bool, error) {
		mu.Lock()
		cur++
		most = max(most, cur)
		mu.Unlock()
		answer := make(chan bool)
		asked <- answer
		ok := <-answer
		mu.Lock()
		cur--
		mu.Unlock()
		return ok, nil
	})
	x, y := step("x", "do"), step("y", "do")
	x.Approve, y.Approve = "x?", "y?"
	done := make(chan *Result)
	go func() {
		res, _ := Run(context.Background(), Config{Registry: registry(newCounter(nil).action("do")), Playbook: playbook(x, y), Approver: approver})
		done <- res
	}()
	(<-asked) <- true
	(<-asked) <- false
	res := <-done
	if most != 1 {
		t.Errorf("%d questions at once, want 1", most)
	}
	got := statuses(res)
	if !(got["x"] == "succeeded" && got["y"] == "skipped: approval declined") && !(got["y"] == "succeeded" && got["x"] == "skipped: approval declined") {
		t.Errorf("got %v, want one approved and one declined", got)
	}
}
