package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestResumeAfterInterrupt: the run is interrupted in b; on resume a is
// kept, b and c run.
func TestResumeAfterInterrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := true
	c := newCounter(nil)
	act := &fnAction{spec: engine.ActionSpec{Name: "b"}, run: func(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
		if first { // Ctrl-C while b runs
			first = false
			cancel()
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return engine.Outputs{"saw": in.Params["from_a"]}, nil
	}}
	act.spec.Params = []engine.Param{{Name: "from_a", Type: engine.TypeString}}
	b := step("b", "b", "a")
	b.With = with(t, map[string]any{"from_a": "${{ steps.a.outputs.step }}"})
	cfg := Config{Registry: registry(c.action("do"), act), Playbook: playbook(step("a", "do"), b, step("c", "do", "b")),
		StateDir: dir, RunID: "run-1", CaseID: "cr-1"}
	if _, err := Run(ctx, cfg); !errors.Is(err, engine.ErrInterrupted) {
		t.Fatalf("Run: err = %v, want ErrInterrupted", err)
	}
	st, err := LoadJournal(dir, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != engine.RunInterrupted || st.Steps["a"].Status != engine.StatusSucceeded || st.Steps["b"].Status != engine.StatusCancelled {
		t.Fatalf("journal: run %s, a %s, b %s; want interrupted, succeeded, cancelled", st.Status, st.Steps["a"].Status, st.Steps["b"].Status)
	}
	cfg.CaseID = "" // taken from the journal
	rec := newRecorder()
	cfg.Case = rec
	var kept []StepEvent // the observer is called on the coordinator goroutine only
	cfg.Observer = func(ev StepEvent) {
		if ev.Step == "a" {
			kept = append(kept, ev)
		}
	}
	res, err := Resume(context.Background(), cfg)
	if err != nil || res.Status != engine.RunSucceeded {
		t.Fatalf("Resume: %v, %v", res.Status, err)
	}
	if c.count("a") != 1 || c.count("c") != 1 {
		t.Errorf("runs: a %d, c %d; want 1, 1", c.count("a"), c.count("c"))
	}
	if got, _ := res.Step("b"); got.Outputs["saw"] != "a" {
		t.Errorf("b saw a's output %v after resume, want \"a\" (from the journal)", got.Outputs["saw"])
	}
	if res.CaseID != "cr-1" || !rec.has("run.resumed ") {
		t.Errorf("case %q, events %v; want cr-1 and run.resumed", res.CaseID, rec.events)
	}
	if rec.steps["a"].Status != engine.StatusSucceeded {
		t.Errorf("the case was not told a succeeded: %v", rec.steps["a"])
	}
	// A display following the resume shows a finished, for as long as it ran.
	a := st.Steps["a"]
	if len(kept) != 1 || kept[0].Status != engine.StatusSucceeded || kept[0].Duration != a.FinishedAt.Sub(*a.StartedAt) {
		t.Errorf("observer events of the kept step a: %+v; want one, succeeded, lasting %v as before", kept, a.FinishedAt.Sub(*a.StartedAt))
	}
}

// TestResumeTruncatedJournal simulates a crash after step a: the journal is
// cut after a's end, with a torn half line. Only b and c run again.
func TestResumeTruncatedJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := newCounter(nil)
	cfg := Config{Registry: registry(c.action("do")), Playbook: playbook(step("a", "do"), step("b", "do", "a"), step("c", "do", "b")),
		StateDir: dir, RunID: "run-crash"}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	path := JournalPath(dir, "run-crash")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.Index(data, []byte(`"step":"a","action":"do","status":"succeeded"`))
	if end < 0 {
		t.Fatalf("no end of a in the journal:\n%s", data)
	}
	end += bytes.IndexByte(data[end:], '\n') + 1
	torn := append(data[:end:end], `{"kind":"step","time":"2026-11-29T10:00:00Z","step":"b","sta`...)
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := LoadJournal(dir, "run-crash")
	if err != nil {
		t.Fatalf("LoadJournal of a torn journal: %v", err)
	}
	if !st.TornTail || st.Status != engine.RunInterrupted || !st.Crashed || st.Steps["b"] != nil {
		t.Fatalf("torn %v, status %s, crashed %v, b %v; want true, interrupted, true, none", st.TornTail, st.Status, st.Crashed, st.Steps["b"])
	}
	res, err := Resume(context.Background(), cfg)
	if err != nil || res.Status != engine.RunSucceeded {
		t.Fatalf("Resume: %v, %v", res.Status, err)
	}
	if c.count("a") != 1 || c.count("b") != 2 || c.count("c") != 2 {
		t.Errorf("runs: a %d, b %d, c %d; want 1, 2, 2", c.count("a"), c.count("b"), c.count("c"))
	}
	st, err = LoadJournal(dir, "run-crash")
	if err != nil || st.TornTail || st.Status != engine.RunSucceeded || st.Resumes != 1 {
		t.Errorf("after resume: %v, torn %v, %s, %d resumes; want whole, succeeded, 1", err, st.TornTail, st.Status, st.Resumes)
	}
	if _, err := Resume(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "already succeeded") {
		t.Errorf("resuming a succeeded run: err = %v, want already succeeded", err)
	}
	cfg.RunID = "run-none"
	if _, err := Resume(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `no run "run-none" in`) {
		t.Errorf("resuming a run that is not there: err = %v", err)
	}
}

// TestResumeFailed: a failed step runs again on resume; so do its
// dependents; a for_each item that succeeded is not run again.
func TestResumeFailed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fail := true
	c := newCounter(func(in *engine.StepInput) (engine.Outputs, error) {
		if fail && (in.StepID == "a" || (in.StepID == "fan" && in.ItemIndex == 1)) {
			return nil, errBoom
		}
		return engine.Outputs{"i": in.ItemIndex}, nil
	})
	fan := step("fan", "do")
	fan.ForEach = list(t, `["x", "y", "z"]`)
	cfg := Config{Registry: registry(c.action("do")), StateDir: dir, RunID: "run-f",
		Playbook: playbook(step("a", "do"), step("b", "do", "a"), fan, step("ok", "do"))}
	res, err := Run(context.Background(), cfg)
	if err != nil || res.Status != engine.RunFailed {
		t.Fatalf("Run: %v, %v; want failed", res.Status, err)
	}
	fail = false
	res, err = Resume(context.Background(), cfg)
	if err != nil || res.Status != engine.RunSucceeded {
		t.Fatalf("Resume: %v, %v; want succeeded", res.Status, err)
	}
	want := map[string]int{"a": 2, "b": 1, "ok": 1, "fan#0": 1, "fan#1": 2, "fan#2": 1}
	for k, n := range want {
		if got := c.count(k); got != n {
			t.Errorf("%s ran %d times, want %d", k, got, n)
		}
	}
	rec, _ := res.Step("fan")
	items, _ := rec.Outputs["items"].([]any)
	if len(items) != 3 || items[1].(map[string]any)["i"] != 1 {
		t.Errorf("fan outputs after resume = %v, want 3 items with item 1's", rec.Outputs)
	}
}

// TestResumeRefusesChangedPlaybook: a playbook whose hash changed is refused.
func TestResumeRefusesChangedPlaybook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := step("a", "do")
	a.Approve = "go?"
	cfg := Config{Registry: registry(newCounter(nil).action("do")), Playbook: playbook(a), StateDir: dir, RunID: "run-h"}
	if _, err := Run(context.Background(), cfg); !errors.Is(err, engine.ErrApprovalRequired) {
		t.Fatal(err)
	}
	changed := *cfg.Playbook
	changed.SHA256 = "def"
	cfg.Playbook = &changed
	if _, err := Resume(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `playbook "test" changed since run "run-h" started`) {
		t.Errorf("err = %v, want a changed-playbook error", err)
	}
}

// TestLiveRun: while a run goes on, its journal reads as running (not
// crashed), and a Resume of it is refused rather than run twice.
func TestLiveRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var live *RunState
	var loadErr, resumeErr error
	var cfg Config
	act := &fnAction{spec: engine.ActionSpec{Name: "peek"}, run: func(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
		live, loadErr = LoadJournal(dir, "run-live")
		_, resumeErr = Resume(ctx, cfg)
		return nil, nil
	}}
	cfg = Config{Registry: registry(act), Playbook: playbook(step("a", "peek")), StateDir: dir, RunID: "run-live"}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if loadErr != nil || live.Status != engine.RunRunning || live.Crashed {
		t.Errorf("during the run: %v, status %v, crashed %v; want running, not crashed", loadErr, live.Status, live.Crashed)
	}
	if resumeErr == nil || !strings.Contains(resumeErr.Error(), "going on in another firebreak process") {
		t.Errorf("Resume of a live run: err = %v, want a refusal", resumeErr)
	}
	if st, err := LoadJournal(dir, "run-live"); err != nil || st.Status != engine.RunSucceeded {
		t.Errorf("after: %v, %v; want succeeded (the refused resume left the journal alone)", st, err)
	}
}

// TestResumeForEachItemChanged: a kept item must have the same value at
// the same index; an item whose value changed runs again.
func TestResumeForEachItemChanged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fail := true
	c := newCounter(func(in *engine.StepInput) (engine.Outputs, error) {
		if fail && in.ItemIndex == 1 {
			return nil, errBoom
		}
		return engine.Outputs{}, nil
	})
	fan := step("fan", "do")
	fan.ForEach = list(t, "inputs.hosts")
	cfg := Config{Registry: registry(c.action("do")), Playbook: playbook(fan), StateDir: dir, RunID: "run-items",
		Inputs: map[string]any{"hosts": []any{"a", "b", "c"}}}
	if res, err := Run(context.Background(), cfg); err != nil || res.Status != engine.RunFailed {
		t.Fatalf("Run: %v, %v", res.Status, err)
	}
	fail = false
	cfg.Inputs = map[string]any{"hosts": []any{"a", "b", "x"}}
	if res, err := Resume(context.Background(), cfg); err != nil || res.Status != engine.RunSucceeded {
		t.Fatalf("Resume: %v, %v", res.Status, err)
	}
	for k, want := range map[string]int{"fan#0": 1, "fan#1": 2, "fan#2": 2} {
		if got := c.count(k); got != want {
			t.Errorf("%s ran %d times, want %d", k, got, want)
		}
	}
}
