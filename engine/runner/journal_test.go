package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestJournalBeforeAction: when an action runs, the journal on disk
// already says it started; the first line is the run header.
func TestJournalBeforeAction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var onDisk []string
	act := &fnAction{spec: engine.ActionSpec{Name: "peek"}, run: func(_ context.Context, in *engine.StepInput) (engine.Outputs, error) {
		data, err := os.ReadFile(in.RunLogPath)
		if err != nil {
			return nil, err
		}
		onDisk = strings.Split(strings.TrimSpace(string(data)), "\n")
		return engine.Outputs{"n": len(onDisk)}, nil
	}}
	cfg := Config{Registry: registry(act), Playbook: playbook(step("s", "peek")), StateDir: dir, RunID: "run-j", CaseID: "cr-j",
		Inputs: map[string]any{"instance_id": "i-0abc"}, Finding: map[string]any{"type": "Backdoor:EC2/C&CActivity.B"}}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if len(onDisk) != 2 {
		t.Fatalf("journal seen by the action has %d lines, want 2 (header, s started):\n%s", len(onDisk), strings.Join(onDisk, "\n"))
	}
	var h, s entry
	if err := json.Unmarshal([]byte(onDisk[0]), &h); err != nil || h.Kind != kindRun || h.Header == nil {
		t.Fatalf("first line %s: %v; want a run header", onDisk[0], err)
	}
	if h.Header.CaseID != "cr-j" || h.Header.Playbook.SHA256 != "abc" || h.Header.Inputs["instance_id"] != "i-0abc" || h.Header.Finding["type"] == nil {
		t.Errorf("header = %+v, want case, sha256, inputs and finding", *h.Header)
	}
	if err := json.Unmarshal([]byte(onDisk[1]), &s); err != nil || s.Step != "s" || s.Status != "running" || s.Attempt != 1 {
		t.Errorf("second line %s: %v; want s running, attempt 1", onDisk[1], err)
	}
}

// TestLoadJournalBroken: a broken line that is not the last is an error
// that names the line.
func TestLoadJournalBroken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Run(context.Background(), Config{Registry: registry(newCounter(nil).action("do")),
		Playbook: playbook(step("a", "do"), step("b", "do", "a")), StateDir: dir, RunID: "run-b"}); err != nil {
		t.Fatal(err)
	}
	path := JournalPath(dir, "run-b")
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	lines[2] = "{garbage\n"
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadJournal(dir, "run-b")
	if err == nil || !strings.Contains(err.Error(), "journal.jsonl:3: broken journal line") {
		t.Errorf("err = %v, want it to name line 3", err)
	}
	if _, err := LoadJournal(dir, "run-none"); err == nil || !strings.Contains(err.Error(), `no run "run-none"`) {
		t.Errorf("missing run: err = %v", err)
	}
	if err := os.WriteFile(path, []byte(`{"kind":"step","step":"a"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadJournal(dir, "run-b"); err == nil || !strings.Contains(err.Error(), "want a run header") {
		t.Errorf("headless journal: err = %v", err)
	}
}

// TestListRuns lists runs with their status and duration, oldest first.
func TestListRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if runs, err := ListRuns(dir); err != nil || len(runs) != 0 {
		t.Fatalf("empty state dir: %v, %v", runs, err)
	}
	clock := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	tick := func() time.Time { clock = clock.Add(time.Second); return clock }
	c := newCounter(func(in *engine.StepInput) (engine.Outputs, error) {
		if in.RunID == "run-2" {
			return nil, errBoom
		}
		return nil, nil
	})
	for _, id := range []string{"run-2", "run-1"} {
		Run(context.Background(), Config{Registry: registry(c.action("do")), Playbook: playbook(step("a", "do")),
			StateDir: dir, RunID: id, CaseID: "cr-" + id, Clock: tick})
	}
	if err := os.MkdirAll(filepath.Join(dir, "runs", "run-3"), 0o700); err != nil {
		t.Fatal(err)
	}
	runs, err := ListRuns(dir)
	if err != nil || len(runs) != 3 {
		t.Fatalf("ListRuns: %v, %v; want 3 runs", runs, err)
	}
	if r := runs[0]; r.ID != "run-1" || r.Status != engine.RunSucceeded || r.Playbook.Name != "test" || r.CaseID != "cr-run-1" || r.Duration <= 0 {
		t.Errorf("runs[0] = %+v", r)
	}
	if r := runs[1]; r.ID != "run-2" || r.Status != engine.RunFailed {
		t.Errorf("runs[1] = %+v, want run-2 failed", r)
	}
	if r := runs[2]; r.ID != "run-3" || r.Err == nil {
		t.Errorf("runs[2] = %+v, want run-3 with an error", r)
	}
}

func TestNewRunID(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 10, 22, 17, 0, time.FixedZone("x", 3600))
	a, b := NewRunID(now), NewRunID(now)
	if !regexp.MustCompile(`^run-20261129T092217Z-[0-9a-f]{6}$`).MatchString(a) || a == b {
		t.Errorf("NewRunID = %q, %q; want run-20261129T092217Z-xxxxxx, unique", a, b)
	}
}

// TestRunRefusesExistingJournal: a run id is used once.
func TestRunRefusesExistingJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := Config{Registry: registry(newCounter(nil).action("do")), Playbook: playbook(step("a", "do")), StateDir: dir, RunID: "run-x"}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `run "run-x" already has a journal`) {
		t.Errorf("err = %v", err)
	}
}

// TestObserver sees each step's changes in order, from one goroutine.
func TestObserver(t *testing.T) {
	t.Parallel()
	var got []string
	obs := func(e StepEvent) { got = append(got, e.Step+" "+string(e.Status)) }
	c := newCounter(func(in *engine.StepInput) (engine.Outputs, error) {
		if in.Attempt == 1 {
			return nil, engine.Retryable(errBoom)
		}
		return nil, nil
	})
	a := step("a", "do")
	a.Retries = 1
	b := step("b", "do", "a")
	b.When = cond(t, "false")
	if _, err := Run(context.Background(), Config{Registry: registry(c.action("do")), Playbook: playbook(a, b),
		Observer: obs, Sleep: (&noSleep{}).sleep}); err != nil {
		t.Fatal(err)
	}
	want := "a running|a running|a succeeded|b skipped"
	if strings.Join(got, "|") != want {
		t.Errorf("events %v, want %s", got, want)
	}
}

// TestLoadJournalGarbledLastLine: a whole last line that does not parse is
// damage, not a torn write: refused, naming the line, not skipped.
func TestLoadJournalGarbledLastLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Run(context.Background(), Config{Registry: registry(newCounter(nil).action("do")),
		Playbook: playbook(step("a", "do")), StateDir: dir, RunID: "run-g"}); err != nil {
		t.Fatal(err)
	}
	path := JournalPath(dir, "run-g")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("journal.jsonl:%d: broken journal line", strings.Count(string(data), "\n")+1)
	if err := os.WriteFile(path, append(data, "{garbage\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadJournal(dir, "run-g"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadJournal: got %v, want an error containing %q", err, want)
	}
}
