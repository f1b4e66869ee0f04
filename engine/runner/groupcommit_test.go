package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestGroupCommitBeforeAction: with many steps starting and ending at once
// (entries gathered into shared syncs), every action still finds its own
// start on disk when it runs.
func TestGroupCommitBeforeAction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	act := &fnAction{spec: engine.ActionSpec{Name: "peek"}, run: func(_ context.Context, in *engine.StepInput) (engine.Outputs, error) {
		data, err := os.ReadFile(in.RunLogPath)
		if err != nil {
			return nil, err
		}
		if want := fmt.Sprintf(`"step":%q,"action":"peek","status":"running","attempt":1`, in.StepID); !strings.Contains(string(data), want) {
			return nil, fmt.Errorf("journal lacks %s when the action runs", want)
		}
		return engine.Outputs{}, nil
	}}
	var steps []*engine.Step
	for i := range 40 {
		s := step(fmt.Sprintf("s%02d", i), "peek")
		if i >= 10 {
			s.Needs = []string{fmt.Sprintf("s%02d", i%10)}
		}
		steps = append(steps, s)
	}
	pb := playbook(steps...)
	pb.Concurrency = 6
	res, err := Run(context.Background(), Config{Registry: registry(act), Playbook: pb, StateDir: dir, RunID: "run-gc"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Steps {
		if s.Status != engine.StatusSucceeded {
			t.Errorf("%s = %s %s", s.ID, s.Status, s.Error)
		}
	}
	st, err := LoadJournal(dir, "run-gc")
	if err != nil || st.Status != engine.RunSucceeded || len(st.Steps) != 40 {
		t.Errorf("journal: %v, %v, %d steps; want succeeded, 40", err, st.Status, len(st.Steps))
	}
}

// TestJournalWriteFails: a journal that cannot be written stops the run
// before any action runs, with an error that says what to do.
func TestJournalWriteFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := newCounter(nil)
	r, err := newRun(Config{Registry: registry(c.action("do")), Playbook: playbook(step("a", "do"), step("b", "do")),
		StateDir: dir, RunID: "run-w"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.jr, err = createJournal(dir, "run-w"); err != nil {
		t.Fatal(err)
	}
	r.jr.f.Close() // every write now fails, as on a dead disk
	res, err := r.execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "writing the journal") || errors.Is(err, engine.ErrInterrupted) {
		t.Fatalf("err = %v, want a journal write error", err)
	}
	if res.Status != engine.RunInterrupted || c.count("a")+c.count("b") != 0 {
		t.Errorf("status %s, %d runs; want interrupted, no action run", res.Status, c.count("a")+c.count("b"))
	}
}
