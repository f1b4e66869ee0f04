//go:build unix

package temporalrun_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/internal/temporalrun"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// probe echoes its target and stores it as an artifact; a target starting
// "fail" fails (retryably when it starts "fail-retry", until the attempt
// named after it: "fail-retry-2" succeeds on attempt 2); "slow" waits for
// its context.
type probe struct {
	mu       sync.Mutex
	attempts map[string]int
}

func (p *probe) Spec() engine.ActionSpec {
	return engine.ActionSpec{Name: "probe", Params: []engine.Param{
		{Name: "target", Type: engine.TypeString, Required: true},
		{Name: "n", Type: engine.TypeInt, Default: 0},
		{Name: "wait", Type: engine.TypeDuration, Default: "0s"},
	}}
}

func (p *probe) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	target := in.Params.String("target")
	key := fmt.Sprintf("%s/%s/%d", in.RunID, in.StepID, in.ItemIndex)
	p.mu.Lock()
	p.attempts[key]++
	p.mu.Unlock()
	if d, _ := in.Params["wait"].(time.Duration); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	switch {
	case strings.HasPrefix(target, "fail-retry-"):
		var n int
		fmt.Sscanf(strings.TrimPrefix(target, "fail-retry-"), "%d", &n)
		if in.Attempt < n {
			return nil, engine.Retryable(fmt.Errorf("throttled on attempt %d", in.Attempt))
		}
	case strings.HasPrefix(target, "fail"):
		return nil, errors.New("refused: " + target)
	}
	name := in.StepID + ".txt"
	if in.ForEach {
		name = fmt.Sprintf("%s-%d.txt", in.StepID, in.ItemIndex)
	}
	if _, err := in.Evidence.Put(ctx, engine.ArtifactMeta{Name: name, Kind: "note"}, strings.NewReader(target)); err != nil {
		return nil, err
	}
	return engine.Outputs{"target": target, "n": in.Params.Int("n")}, nil
}

// conformance is a playbook using every part of the language a run
// interprets: needs, when, for_each with its own concurrency, a failure
// carried through needs, continue_on_error, retries of a retryable error,
// a non-retryable error, approve, and finally.
const conformance = `name: conformance
version: 1.0.0
inputs:
  instance_id: {type: string, required: true}
  hosts: {type: list, default: []}
  terminate: {type: bool, default: false}
defaults: {retries: 2, backoff: {initial: 50ms, max: 100ms, jitter: true}}
concurrency: 4
steps:
  - id: gather
    action: probe
    with: {target: "${{ inputs.instance_id }}", wait: 200ms}
  - id: isolate
    action: probe
    needs: [gather]
    approve: "Isolate ${{ inputs.instance_id }}?"
    with: {target: "${{ steps.gather.outputs.target }}-isolated", n: "${{ len(inputs.hosts) }}"}
  - id: memory
    action: probe
    needs: [isolate]
    for_each: inputs.hosts
    concurrency: 2
    with: {target: "${{ item }}#${{ index }}"}
  - id: flaky
    action: probe
    needs: [gather]
    with: {target: fail-retry-2}
  - id: broken
    action: probe
    needs: [gather]
    continue_on_error: true
    with: {target: fail-allowed}
  - id: refused
    action: probe
    needs: [isolate]
    with: {target: fail-hard}
  - id: after-refused
    action: probe
    needs: [refused]
    with: {target: never}
  - id: stop
    action: probe
    needs: [memory]
    when: inputs.terminate
    with: {target: "${{ inputs.instance_id }}"}
finally:
  - id: report
    action: probe
    with: {target: "memory=${{ steps.memory.status }} stop=${{ steps.stop.status }} refused=${{ steps.refused.status }}"}
`

type env struct {
	srv   *testenv.Temporal
	c     client.Client
	reg   *engine.Registry
	probe *probe
}

func start(t *testing.T, workers int) *env {
	t.Helper()
	srv := testenv.StartTemporal(t)
	c, err := client.Dial(client.Options{HostPort: srv.Addr, Namespace: srv.Namespace,
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))})
	if err != nil {
		t.Fatalf("dialing temporal: %v", err)
	}
	t.Cleanup(c.Close)
	e := &env{srv: srv, c: c, reg: engine.NewRegistry(), probe: &probe{attempts: map[string]int{}}}
	e.reg.Register(e.probe)
	for i := 0; i < workers; i++ {
		e.worker(t, fmt.Sprintf("worker-%d", i))
	}
	return e
}

// worker starts a worker in this process and stops it when the test ends.
func (e *env) worker(t *testing.T, name string) worker.Worker {
	t.Helper()
	w := temporalrun.NewWorker(e.c, &temporalrun.Activities{Registry: e.reg, Identity: name}, temporalrun.WorkerOptions{})
	if err := w.Start(); err != nil {
		t.Fatalf("starting worker: %v", err)
	}
	t.Cleanup(w.Stop)
	return w
}

func (e *env) load(t *testing.T, yaml string) *engine.Playbook {
	t.Helper()
	pb, err := (&loader.Loader{Registry: e.reg}).LoadBytes("conformance.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

func (e *env) manager(b session.Backend) *session.Manager {
	return &session.Manager{Backend: b, Tool: evidence.ToolRef{Name: "firebreak", Version: "test"}}
}

// run runs pb on backend b with its evidence in a new directory store.
func run(t *testing.T, m *session.Manager, pb *engine.Playbook, inputs map[string]any, approver runner.Approver) (*session.Outcome, evidence.Store) {
	t.Helper()
	dir := t.TempDir()
	store, err := evidence.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	req := &session.Request{Playbook: pb, Inputs: inputs, Evidence: evidence.Location{Scheme: evidence.FileScheme, Path: dir},
		Store: store, Approver: approver, Operator: evidence.Operator{UserID: "local:test@host"}}
	r, err := m.Start(testenv.Context(t), req)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	select {
	case <-r.Done():
	case <-time.After(3 * time.Minute):
		t.Fatal("the run did not end within 3 minutes")
	}
	return r.Wait(), store
}

// shape is what two backends must agree on of a step: everything but
// timings.
func shape(recs []engine.StepRecord) string {
	type s struct {
		ID, Status, Error, Skip string
		Attempts                int
		Outputs                 engine.Outputs
		Items                   string
	}
	var out []s
	for _, r := range recs {
		out = append(out, s{r.ID, string(r.Status), r.Error, r.SkipReason, r.Attempts, r.Outputs, shape(r.Items)})
	}
	b, _ := json.MarshalIndent(out, "", " ")
	return string(b)
}

func byID(recs []engine.StepRecord) []engine.StepRecord {
	out := append([]engine.StepRecord(nil), recs...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// artifacts is the manifest's artifacts by name and hash.
func artifacts(m *evidence.Manifest) string {
	var out []string
	for _, a := range m.Artifacts {
		out = append(out, a.Step+"/"+path.Base(a.URI)+"="+a.SHA256)
	}
	sort.Strings(out) // parallel steps store in any order
	return strings.Join(out, "\n")
}

func TestConformanceWithTheLocalRunner(t *testing.T) {
	e := start(t, 1)
	pb := e.load(t, conformance)
	for _, tc := range []struct {
		name   string
		inputs map[string]any
	}{
		{"three hosts, no terminate", map[string]any{"instance_id": "i-1", "hosts": []any{"a", "b", "c"}, "terminate": false}},
		{"no hosts, terminate", map[string]any{"instance_id": "i-2", "hosts": []any{}, "terminate": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local, lstore := run(t, e.manager(&session.Local{Registry: e.reg}), pb, tc.inputs, runner.AutoApprove)
			remote, rstore := run(t, e.manager(&temporalrun.Backend{Client: e.c, Tool: "firebreak"}), pb, tc.inputs, runner.AutoApprove)
			if remote.Err != nil && local.Err == nil {
				t.Fatalf("temporal run: %v", remote.Err)
			}
			if local.Status != remote.Status || local.Status != engine.RunFailed {
				t.Fatalf("status: local %s, temporal %s; want both failed (refused fails)", local.Status, remote.Status)
			}
			if l, r := shape(local.Result.Steps), shape(remote.Result.Steps); l != r {
				t.Fatalf("steps differ:\nlocal:\n%s\ntemporal:\n%s", l, r)
			}
			if local.Manifest == nil || remote.Manifest == nil {
				t.Fatalf("a manifest is missing: local %v, temporal %v (%v)", local.Manifest != nil, remote.Manifest != nil, remote.Err)
			}
			// The local case lists steps in the order they first changed,
			// which parallel steps make timing's: compare them by id.
			if l, r := shape(byID(local.Manifest.Steps)), shape(byID(remote.Manifest.Steps)); l != r {
				t.Fatalf("manifest steps differ:\nlocal:\n%s\ntemporal:\n%s", l, r)
			}
			if l, r := artifacts(local.Manifest), artifacts(remote.Manifest); l != r || l == "" {
				t.Fatalf("manifest artifacts differ:\nlocal:\n%s\ntemporal:\n%s", l, r)
			}
			for _, c := range []struct {
				store evidence.Store
				id    string
			}{{lstore, local.CaseID}, {rstore, remote.CaseID}} {
				rep, err := evidence.Verify(t.Context(), c.store, c.id, nil)
				if err != nil || !rep.OK() {
					t.Fatalf("verify %s: %v %v", c.id, err, rep)
				}
			}
			// The workflow's custody events reach the one chain the workers
			// append to, in the order the machine made them per step.
			got := strings.Join(custody(t, rstore, remote.CaseID), " ")
			for _, want := range []string{"case.opened", "run.started", "step.started", "step.retry", "step.approved",
				"step.failed", "step.skipped", "artifact.stored", "case.finished"} {
				if !strings.Contains(got, want) {
					t.Errorf("custody log of the temporal run has no %s: %s", want, got)
				}
			}
			if strings.Index(got, "run.started") > strings.Index(got, "step.started") {
				t.Errorf("custody: a step started before the run: %s", got)
			}
			replay(t, e, remote.RunID)
			flaky, _ := remote.Result.Step("flaky")
			if flaky.Status != engine.StatusSucceeded || flaky.Attempts != 2 {
				t.Fatalf("flaky: %s after %d attempts, want succeeded on attempt 2 (a retryable error is retried)", flaky.Status, flaky.Attempts)
			}
			refused, _ := remote.Result.Step("refused")
			if refused.Status != engine.StatusFailed || refused.Attempts != 1 {
				t.Fatalf("refused: %s after %d attempts, want failed after 1 (not retryable)", refused.Status, refused.Attempts)
			}
		})
	}
}

// replay replays the run's workflow history with a fresh workflow: the
// workflow is deterministic (the SDK fails a replay whose commands differ).
func replay(t *testing.T, e *env, runID string) {
	t.Helper()
	it := e.c.GetWorkflowHistory(t.Context(), runID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	if len(h.Events) < 10 {
		t.Fatalf("history of %s has %d events", runID, len(h.Events))
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions((&temporalrun.Workflow{Registry: e.reg}).Run, workflow.RegisterOptions{Name: temporalrun.WorkflowName})
	if err := r.ReplayWorkflowHistory(nil, h); err != nil {
		t.Fatalf("replaying %s: %v", runID, err)
	}
}

// custody returns the events of a case's custody log, in order.
func custody(t *testing.T, store evidence.Store, caseID string) []string {
	t.Helper()
	rc, err := store.Open(t.Context(), caseID+"/custody.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out []string
	dec := json.NewDecoder(rc)
	for {
		var e struct{ Event, Step string }
		if err := dec.Decode(&e); err != nil {
			break
		}
		out = append(out, e.Event)
	}
	return out
}

const approval = `name: approval
steps:
  - id: look
    action: probe
    with: {target: looked}
  - id: kill
    action: probe
    needs: [look]
    approve: "Kill it?"
    with: {target: killed}
  - id: after
    action: probe
    needs: [kill]
    with: {target: after}
`

// An approve step waits, with no one following to answer, until the
// approve signal comes (firebreak approve): yes runs it, no skips it and
// what depends on it, as a local run does.
func TestApproveSignalsAWaitingWorkflow(t *testing.T) {
	e := start(t, 1)
	pb := e.load(t, approval)
	b := &temporalrun.Backend{Client: e.c, Tool: "firebreak"}
	for _, yes := range []bool{true, false} {
		t.Run(fmt.Sprint("approve=", yes), func(t *testing.T) {
			dir := t.TempDir()
			store, err := evidence.NewDirStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			waiting := make(chan string, 8)
			req := &session.Request{Playbook: pb, Evidence: evidence.Location{Scheme: evidence.FileScheme, Path: dir}, Store: store,
				Operator: evidence.Operator{UserID: "local:test@host"}, Observer: func(ev runner.StepEvent) {
					if ev.Status == engine.StatusWaiting {
						waiting <- ev.Step
					}
				}}
			r, err := e.manager(b).Start(testenv.Context(t), req)
			if err != nil {
				t.Fatal(err)
			}
			select {
			case step := <-waiting:
				if step != "kill" {
					t.Fatalf("waiting step %q, want kill", step)
				}
			case <-time.After(time.Minute):
				t.Fatal("kill never waited for approval")
			}
			if err := b.Approve(t.Context(), r.ID, "look", true, "tester"); err == nil {
				t.Fatal("approving a step that does not wait was accepted")
			}
			if err := b.Approve(t.Context(), r.ID, "kill", yes, "tester"); err != nil {
				t.Fatalf("approve: %v", err)
			}
			out := r.Wait()
			if out.Err != nil || out.Status != engine.RunSucceeded {
				t.Fatalf("run: %s %v", out.Status, out.Err)
			}
			kill, _ := out.Result.Step("kill")
			after, _ := out.Result.Step("after")
			want := engine.StatusSucceeded
			if !yes {
				want = engine.StatusSkipped
			}
			if kill.Status != want || after.Status != want {
				t.Fatalf("kill %s, after %s; want both %s", kill.Status, after.Status, want)
			}
			ev := "step.approved"
			if !yes {
				ev = "step.declined"
			}
			if got := strings.Join(custody(t, store, out.CaseID), " "); !strings.Contains(got, "approval.answered "+ev) {
				t.Fatalf("custody has no approval.answered (by the approver) before %s: %s", ev, got)
			}
			if rep, err := evidence.Verify(t.Context(), store, out.CaseID, nil); err != nil || !rep.OK() {
				t.Fatalf("verify: %v %v", err, rep)
			}
		})
	}
}
