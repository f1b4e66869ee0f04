package runner_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

type putAction struct{}

func (putAction) Spec() engine.ActionSpec { return engine.ActionSpec{Name: "put"} }
func (putAction) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	a, err := in.Evidence.Put(ctx, engine.ArtifactMeta{Name: "note.txt", Kind: "note"}, strings.NewReader("seen "+in.StepID))
	if err != nil {
		return nil, err
	}
	return engine.Outputs{"sha256": a.SHA256}, nil
}

// TestWithEvidenceCase runs through a real evidence case on a directory
// store: the action's artifact, the step records and the runner's custody
// events all reach the case.
func TestWithEvidenceCase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, err := evidence.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := evidence.OpenCase(ctx, store, evidence.Header{CaseID: "cr-20261129T102217Z-7d5f", RunID: "run-e"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := engine.NewRegistry()
	reg.Register(putAction{})
	skip := &engine.Step{ID: "never", Action: "put", Needs: []string{"collect"}}
	skip.When, _ = engine.CompileExpr("false", engine.ExprBool)
	pb := &engine.Playbook{Name: "e", Steps: []*engine.Step{{ID: "collect", Action: "put"}, skip}}
	if err := pb.BuildGraphs(); err != nil {
		t.Fatal(err)
	}
	res, err := runner.Run(ctx, runner.Config{Registry: reg, Playbook: pb, RunID: "run-e", CaseID: c.ID(), Case: c})
	if err != nil || res.Status != engine.RunSucceeded {
		t.Fatalf("Run: %v, %v", res.Status, err)
	}
	m, err := c.Finish(ctx, res.Status, res.FinishedAt)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]engine.StepStatus{}
	for _, s := range m.Steps {
		got[s.ID] = s.Status
	}
	if got["collect"] != engine.StatusSucceeded || got["never"] != engine.StatusSkipped || len(m.Artifacts) != 1 {
		t.Errorf("manifest steps %v, %d artifacts; want collect succeeded, never skipped, 1 artifact", got, len(m.Artifacts))
	}
	f, err := os.Open(filepath.Join(dir, c.ID(), "custody.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var e evidence.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		events = append(events, strings.TrimSpace(e.Event+" "+e.Step))
	}
	all := strings.Join(events, "|")
	for _, want := range []string{"run.started", "step.started collect", "step.succeeded collect", "step.skipped never"} {
		if !strings.Contains(all, want) {
			t.Errorf("custody lacks %q: %v", want, events)
		}
	}
}

// TestWithoutCaseEvidenceIsRefused: a run without a case gives actions an
// Evidence, never nil, that refuses to store and says what to do, so the
// step fails instead of losing its evidence.
func TestWithoutCaseEvidenceIsRefused(t *testing.T) {
	t.Parallel()
	reg := engine.NewRegistry()
	reg.Register(putAction{})
	pb := &engine.Playbook{Name: "p", Concurrency: 1, Steps: []*engine.Step{{ID: "a", Action: "put"}}}
	if err := pb.BuildGraphs(); err != nil {
		t.Fatal(err)
	}
	res, err := runner.Run(context.Background(), runner.Config{Registry: reg, Playbook: pb})
	if err != nil {
		t.Fatal(err)
	}
	want := "this run has no evidence case, so nothing can be stored: give runner.Config a Case"
	if res.Status != engine.RunFailed || len(res.Steps) != 1 || !strings.HasPrefix(res.Steps[0].Error, want) {
		t.Errorf("got %s with steps %+v, want failed with step a's error starting %q", res.Status, res.Steps, want)
	}
}
