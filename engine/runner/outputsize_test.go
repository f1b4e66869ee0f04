package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestOutputsTooBigFailTheStep: a step whose outputs the journal and the
// manifest could not hold fails saying so, and writes no such line: the
// journal still reads back, and the step beside it succeeded. A for_each
// step whose items are each small but together too big fails the same
// way.
func TestOutputsTooBigFailTheStep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := newCounter(func(in *engine.StepInput) (engine.Outputs, error) {
		switch in.StepID {
		case "huge":
			return engine.Outputs{"blob": strings.Repeat("x", MaxOutputsBytes)}, nil
		case "many":
			return engine.Outputs{"blob": strings.Repeat("y", MaxOutputsBytes/3)}, nil
		}
		return engine.Outputs{"ok": true}, nil
	})
	many := step("many", "do")
	many.ForEach = list(t, "[1, 2, 3, 4]")
	cfg := Config{Registry: registry(c.action("do")), Playbook: playbook(step("huge", "do"), step("fine", "do"), many),
		StateDir: dir, RunID: "run-big", CaseID: "cr-1"}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := statuses(res)
	if got["huge"] != "failed" || got["fine"] != "succeeded" || got["many"] != "failed" {
		t.Fatalf("statuses %v: want huge and many failed, fine succeeded", got)
	}
	errs := map[string]string{}
	for _, r := range res.Steps {
		errs[r.ID] = r.Error
	}
	for id, want := range map[string]string{"huge": "its outputs are", "many": "the items' outputs together are"} {
		if e := errs[id]; !strings.Contains(e, want) || !strings.Contains(e, "more than 4194304") {
			t.Errorf("%s error %q: want it to say %q and the bound", id, e, want)
		}
	}
	st, err := LoadJournal(dir, "run-big")
	if err != nil {
		t.Fatalf("the journal does not read back: %v", err)
	}
	if st.Steps["huge"].Status != engine.StatusFailed || st.Steps["huge"].Outputs != nil {
		t.Errorf("journal: huge %s with %d outputs, want failed with none", st.Steps["huge"].Status, len(st.Steps["huge"].Outputs))
	}
}
