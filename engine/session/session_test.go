package session_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
)

const twoSteps = `
name: two
version: 1.0.0
steps:
  - id: first
    action: put
  - id: second
    action: put
    needs: first
`

// TestRunSealsCase: a run from a finding opens its case, stores the finding
// first, runs, and seals a manifest that verifies; its record and journal
// let it be listed.
func TestRunSealsCase(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pb := w.load(t, twoSteps)
	m := w.manager(nil)
	f := &session.Finding{Object: map[string]any{"id": "f-1"}, Incident: map[string]any{"type": "Backdoor:EC2/C&CActivity.B"},
		Raw: []byte(`{"id":"f-1"}`), Meta: engine.ArtifactMeta{Name: "finding.json", Kind: "finding", ContentType: "application/json"}}
	run, err := m.Start(t.Context(), &session.Request{Playbook: pb, Inputs: map[string]any{}, Finding: f,
		Evidence: somewhere, Operator: evidence.Operator{UserID: "local:test@host"}})
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == "" || run.CaseID == "" {
		t.Fatalf("Start gave run %q case %q, want both named at once", run.ID, run.CaseID)
	}
	out := run.Wait()
	if out.Status != engine.RunSucceeded || out.Err != nil || out.Manifest == nil {
		t.Fatalf("outcome: status %q, err %v, manifest %v; want succeeded and sealed", out.Status, out.Err, out.Manifest != nil)
	}
	if got := out.Manifest.Artifacts; len(got) != 3 || got[0].Kind != "finding" || got[0].Step != session.FindingStep {
		t.Errorf("manifest artifacts %+v: want the finding first, then the two steps' notes", got)
	}
	if out.Manifest.Operator.UserID != "local:test@host" || out.Manifest.Playbook != pb.Ref() || out.Manifest.Tool.Version != "test" {
		t.Errorf("manifest header: operator %+v, playbook %+v, tool %+v", out.Manifest.Operator, out.Manifest.Playbook, out.Manifest.Tool)
	}
	verify(t, w.store, out.CaseID)
	events := custody(t, w.store, out.CaseID)
	if events[0] != evidence.EventCaseOpened || events[len(events)-1] != evidence.EventCaseFinished {
		t.Errorf("custody %v: want case.opened first and case.finished last", events)
	}
	if i, j := slices.Index(events, "artifact.stored"), slices.Index(events, "run.started"); i < 0 || i > j {
		t.Errorf("custody %v: want the finding stored before the run started", events)
	}
	if _, err := os.Stat(filepath.Join(w.state, "runs", run.ID, "invocation.json")); err != nil {
		t.Errorf("no invocation record: %v", err)
	}
	runs, err := m.Runs(t.Context())
	if err != nil || len(runs) != 1 || runs[0].ID != run.ID || runs[0].Status != engine.RunSucceeded || runs[0].Playbook != pb.Ref() {
		t.Errorf("Runs: %+v, %v; want the one run, succeeded", runs, err)
	}
	if _, err := m.ResumeRequest(t.Context(), run.ID); !errors.Is(err, session.ErrSucceeded) {
		t.Errorf("ResumeRequest of a succeeded run: %v, want ErrSucceeded", err)
	}
	if _, live := m.Live(run.ID); live {
		t.Errorf("a run that ended is still live")
	}
}

// TestResumeContinuesCase: a run stopped by an approval nobody could give
// is sealed as interrupted; resumed by id, it keeps what succeeded, runs
// the rest in the same case, and seals it again.
func TestResumeContinuesCase(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pb := w.load(t, twoSteps+`    approve: "go on?"
`)
	abs, err := filepath.Abs("test.yaml") // the record makes a playbook file's path absolute
	if err != nil {
		t.Fatal(err)
	}
	m := w.manager(map[string]*engine.Playbook{abs: pb})
	run, err := m.Start(t.Context(), &session.Request{Playbook: pb, Inputs: map[string]any{}, Evidence: somewhere})
	if err != nil {
		t.Fatal(err)
	}
	first := run.Wait()
	if first.Status != engine.RunInterrupted || !errors.Is(first.Err, engine.ErrApprovalRequired) || first.Manifest == nil {
		t.Fatalf("first: status %q, err %v; want interrupted for approval, sealed", first.Status, first.Err)
	}
	verify(t, w.store, first.CaseID)

	req, err := m.ResumeRequest(t.Context(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if req.CaseID != run.CaseID || req.Playbook != pb || req.Evidence != somewhere {
		t.Fatalf("resume request: case %q evidence %q; want the run's", req.CaseID, req.Evidence)
	}
	req.Approver = runner.AutoApprove
	again, err := m.Resume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	out := again.Wait()
	if out.Status != engine.RunSucceeded || out.CaseID != run.CaseID || out.RunID != run.ID {
		t.Fatalf("resumed: %q in case %q (err %v); want succeeded in %q", out.Status, out.CaseID, out.Err, run.CaseID)
	}
	if w.ran("first") != 1 || w.ran("second") != 1 {
		t.Errorf("runs: first %d, second %d; want each once (first kept from before the resume)", w.ran("first"), w.ran("second"))
	}
	verify(t, w.store, run.CaseID)
	events := custody(t, w.store, run.CaseID)
	if n := slices.Index(events, evidence.EventCaseResumed); n < 0 || !slices.Contains(events[n:], "run.resumed") {
		t.Errorf("custody %v: want case.resumed then run.resumed", events)
	}
}

// TestCancelSealsInterrupted: a run cancelled mid-step is sealed as
// interrupted, and its evidence verifies.
func TestCancelSealsInterrupted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pb := w.load(t, `
name: long
steps:
  - id: note
    action: put
  - id: wait
    action: block
    needs: note
finally:
  - id: after
    action: put
`)
	run, err := w.manager(nil).Start(t.Context(), &session.Request{Playbook: pb, Inputs: map[string]any{}, Evidence: somewhere})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := run.Follow(16)
	defer stop()
	waitFor(t, events, func(ev runner.StepEvent) bool { return ev.Step == "wait" && ev.Status == engine.StatusRunning })
	run.Cancel()
	out := run.Wait()
	if out.Status != engine.RunInterrupted || !errors.Is(out.Err, engine.ErrInterrupted) || out.Manifest == nil {
		t.Fatalf("cancelled: status %q, err %v, sealed %v; want interrupted and sealed", out.Status, out.Err, out.Manifest != nil)
	}
	if out.Manifest.Status != engine.RunInterrupted {
		t.Errorf("manifest status %q, want interrupted", out.Manifest.Status)
	}
	if w.ran("after") != 1 {
		t.Errorf("the finally step ran %d times, want once after the cancel", w.ran("after"))
	}
	verify(t, w.store, out.CaseID)
}

// TestCancelledContextStillSeals: the context the run was started with
// ends (a SIGTERM); the case is sealed all the same.
func TestCancelledContextStillSeals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pb := w.load(t, "name: long\nsteps:\n  - id: wait\n    action: block\n")
	ctx, cancel := context.WithCancel(t.Context())
	run, err := w.manager(nil).Start(ctx, &session.Request{Playbook: pb, Inputs: map[string]any{}, Evidence: somewhere})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := run.Follow(16)
	defer stop()
	waitFor(t, events, func(ev runner.StepEvent) bool { return ev.Status == engine.StatusRunning })
	cancel()
	if out := run.Wait(); out.Status != engine.RunInterrupted || out.Manifest == nil {
		t.Fatalf("status %q, sealed %v; want interrupted and sealed", out.Status, out.Manifest != nil)
	}
}

// failManifest is a store whose manifest writes fail.
type failManifest struct{ evidence.Store }

func (s failManifest) Put(ctx context.Context, key string, r io.Reader) (evidence.ObjectInfo, error) {
	if strings.HasSuffix(key, "/manifest.json") {
		return evidence.ObjectInfo{}, errors.New("disk full")
	}
	return s.Store.Put(ctx, key, r)
}

// TestUnsealedIsNotSuccess: every step succeeded but the manifest could not
// be written: the run is failed, and says why.
func TestUnsealedIsNotSuccess(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pb := w.load(t, twoSteps)
	run, err := w.manager(nil).Start(t.Context(), &session.Request{Playbook: pb, Inputs: map[string]any{}, Store: failManifest{w.store}})
	if err != nil {
		t.Fatal(err)
	}
	out := run.Wait()
	if out.Result == nil || out.Result.Status != engine.RunSucceeded {
		t.Fatalf("the steps: %+v, want them all succeeded", out.Result)
	}
	if out.Status != engine.RunFailed || out.Manifest != nil || out.Err == nil ||
		!strings.Contains(out.Err.Error(), `writing the manifest of case "`+run.CaseID+`"`) || !strings.Contains(out.Err.Error(), "disk full") {
		t.Errorf("outcome: status %q, err %v; want failed, saying the manifest was not written", out.Status, out.Err)
	}
}

// TestStartErrors: what stops a run before anything ran comes back from
// Start, and no run is live.
func TestStartErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pb := w.load(t, twoSteps)
	m := w.manager(nil)
	m.Open.Store = func(context.Context, evidence.Location) (evidence.Store, error) {
		return nil, errors.New("no such bucket")
	}
	if _, err := m.Start(t.Context(), &session.Request{Playbook: pb, Evidence: evidence.Location{Scheme: "s3", Host: "nope"}}); err == nil || !strings.Contains(err.Error(), "no such bucket") {
		t.Errorf("store: got %v", err)
	}
	m = w.manager(nil)
	if _, err := m.Start(t.Context(), &session.Request{Playbook: pb, Evidence: somewhere, SignKey: filepath.Join(t.TempDir(), "none.pem")}); err == nil {
		t.Errorf("a signing key that is not there: no error")
	}
	if _, err := m.Start(t.Context(), &session.Request{Playbook: pb, Evidence: somewhere, CaseID: "../escape"}); err == nil {
		t.Errorf("a bad case id: no error")
	}
	// The same run (id, playbook) holding its case elsewhere: busy. Another
	// run is refused before the lock is asked for (ErrCaseExists, below).
	busy, err := evidence.OpenCase(t.Context(), w.store, evidence.Header{CaseID: "cr-busy", RunID: "run-busy", Playbook: pb.Ref()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := m.Start(t.Context(), &session.Request{Playbook: pb, Evidence: somewhere, CaseID: "cr-busy", RunID: "run-busy"}); !errors.Is(err, evidence.ErrCaseBusy) {
		t.Errorf("a case its run holds in another process: got %v, want ErrCaseBusy", err)
	}
	if _, err := m.Start(t.Context(), &session.Request{Playbook: pb, Evidence: somewhere, CaseID: "cr-busy"}); !errors.Is(err, evidence.ErrCaseExists) {
		t.Errorf("a case another run started: got %v, want ErrCaseExists", err)
	}
	if _, err := m.ResumeRequest(t.Context(), "run-nope"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("resume of an unknown run: %v, want ErrNotExist", err)
	}
}

// TestOneRunOneID: a run that is going on cannot be started or resumed a
// second time in the same Manager; once it ended, it can be resumed.
func TestOneRunOneID(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pb := w.load(t, "name: long\nsteps:\n  - id: wait\n    action: block\n")
	abs, _ := filepath.Abs("test.yaml")
	m := w.manager(map[string]*engine.Playbook{abs: pb})
	run, err := m.Start(t.Context(), &session.Request{Playbook: pb, Inputs: map[string]any{}, Evidence: somewhere})
	if err != nil {
		t.Fatal(err)
	}
	if live, ok := m.Live(run.ID); !ok || live != run {
		t.Errorf("Live(%q) = %v, %v; want the run", run.ID, live, ok)
	}
	again := &session.Request{Playbook: pb, Inputs: map[string]any{}, Evidence: somewhere, RunID: run.ID, CaseID: run.CaseID}
	if _, err := m.Resume(t.Context(), again); err == nil || !strings.Contains(err.Error(), "is going on already") {
		t.Errorf("resuming a live run: %v, want a refusal", err)
	}
	if _, ok := m.Live(run.ID); !ok {
		t.Errorf("the refused resume took the live run off the list")
	}
	run.Cancel()
	if out := run.Wait(); out.Status != engine.RunInterrupted {
		t.Fatalf("cancelled: %q", out.Status)
	}
	close(w.block)
	req, err := m.ResumeRequest(t.Context(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	resumed, err := m.Resume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if out := resumed.Wait(); out.Status != engine.RunSucceeded {
		t.Errorf("resumed: %q (%v), want succeeded", out.Status, out.Err)
	}
}

// TestRefusedRunLeavesNoRecord: a new run refused after its record was
// written (a busy case) leaves no run dir; a record without a journal
// (a run killed before its first step) lists as never started, and its
// resume says so.
func TestRefusedRunLeavesNoRecord(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pb := w.load(t, twoSteps)
	m := w.manager(nil)
	// The case is this run's own (same run id and playbook: CheckOpen lets
	// it through), but held by another process: refused under the lock,
	// after the record was written.
	busy, err := evidence.OpenCase(t.Context(), w.store, evidence.Header{CaseID: "cr-busy", RunID: "run-refused", Playbook: pb.Ref()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := m.Start(t.Context(), &session.Request{Playbook: pb, Evidence: somewhere, CaseID: "cr-busy", RunID: "run-refused"}); !errors.Is(err, evidence.ErrCaseBusy) {
		t.Fatalf("a case another run holds: got %v, want ErrCaseBusy", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(w.state, "runs")); len(entries) != 0 {
		t.Fatalf("the refused run left %d run dir(s): %v", len(entries), entries)
	}
	// A record without a journal, as a run killed between the two leaves.
	b := m.Backend.(*session.Local)
	if err := b.Record(t.Context(), &session.Job{RunID: "run-killed", CaseID: "host-1", Evidence: "/ev/batch", Label: "host-1"}); err != nil {
		t.Fatal(err)
	}
	runs, err := m.Runs(t.Context())
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs: %v, %v", runs, err)
	}
	if r := runs[0]; !errors.Is(r.Err, session.ErrNotStarted) || r.CaseID != "host-1" || r.Target != "host-1" || r.Batch != "batch" {
		t.Errorf("the run killed before its journal: got %+v, want ErrNotStarted with its case, target and batch", r)
	}
	if _, err := m.ResumeRequest(t.Context(), "run-killed"); !errors.Is(err, session.ErrNotStarted) {
		t.Errorf("resume of a run that never started: got %v, want ErrNotStarted", err)
	}
	if err := b.Discard(t.Context(), "run-killed"); err != nil {
		t.Fatal(err)
	}
	if runs, _ := m.Runs(t.Context()); len(runs) != 0 {
		t.Errorf("after Discard: %v", runs)
	}
}
