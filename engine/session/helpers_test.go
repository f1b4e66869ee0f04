package session_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
)

// fnAction is an action whose Run is a test function.
type fnAction struct {
	name string
	run  func(ctx context.Context, in *engine.StepInput) (engine.Outputs, error)
}

func (a *fnAction) Spec() engine.ActionSpec { return engine.ActionSpec{Name: a.name} }
func (a *fnAction) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	return a.run(ctx, in)
}

// world is a registry of test actions, a directory store and a state dir.
type world struct {
	reg   *engine.Registry
	store *evidence.DirStore
	state string
	mu    sync.Mutex
	runs  map[string]int  // step id -> times run
	block chan struct{}   // "block" returns when this is closed or its ctx ends
	fail  map[string]bool // steps "flaky" fails
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, err := evidence.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{reg: engine.NewRegistry(), store: store, state: t.TempDir(), runs: map[string]int{},
		block: make(chan struct{}), fail: map[string]bool{}}
	w.reg.Register(&fnAction{name: "put", run: func(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
		w.count(in.StepID)
		_, err := in.Evidence.Put(ctx, engine.ArtifactMeta{Name: in.StepID + ".txt", Kind: "note"}, strings.NewReader("from "+in.StepID))
		return engine.Outputs{"step": in.StepID}, err
	}})
	w.reg.Register(&fnAction{name: "block", run: func(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
		w.count(in.StepID)
		select {
		case <-w.block:
			return engine.Outputs{}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}})
	w.reg.Register(&fnAction{name: "flaky", run: func(_ context.Context, in *engine.StepInput) (engine.Outputs, error) {
		w.count(in.StepID)
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.fail[in.StepID] {
			return nil, errors.New("flaky failed")
		}
		return engine.Outputs{}, nil
	}})
	return w
}

func (w *world) count(step string) {
	w.mu.Lock()
	w.runs[step]++
	w.mu.Unlock()
}

func (w *world) ran(step string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.runs[step]
}

// load loads a playbook from YAML, as every real run's playbook is.
func (w *world) load(t *testing.T, yaml string) *engine.Playbook {
	t.Helper()
	pb, err := (&loader.Loader{Registry: w.reg}).LoadBytes("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

// manager runs on the local backend, opening the world's store whatever
// the location, and loading the resumed playbook from sources.
func (w *world) manager(sources map[string]*engine.Playbook) *session.Manager {
	return &session.Manager{
		Backend: &session.Local{Registry: w.reg, StateDir: w.state,
			Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
		Open: session.Opener{
			Store: func(context.Context, evidence.Location) (evidence.Store, error) { return w.store, nil },
			Playbook: func(src string) (*engine.Playbook, error) {
				if pb, ok := sources[src]; ok {
					return pb, nil
				}
				return nil, errors.New("no such playbook")
			},
		},
		Tool: evidence.ToolRef{Name: "firebreak", Version: "test"},
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
	data, _ := io.ReadAll(rc)
	var out []string
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		_, rest, _ := bytes.Cut(line, []byte(`"event":"`))
		ev, _, _ := bytes.Cut(rest, []byte(`"`))
		out = append(out, string(ev))
	}
	return out
}

// verify fails the test unless the case's evidence verifies.
func verify(t *testing.T, store evidence.Store, caseID string) *evidence.Report {
	t.Helper()
	rep, err := evidence.Verify(t.Context(), store, caseID, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !rep.OK() {
		t.Fatalf("Verify: %v", rep.Problems)
	}
	return rep
}

// waitFor reads events until one matches, failing after a minute.
func waitFor(t *testing.T, events <-chan runner.StepEvent, match func(runner.StepEvent) bool) runner.StepEvent {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the run's events ended before the one awaited")
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatal("no matching event within a minute")
		}
	}
}

// somewhere is the evidence location the tests record; the world's store
// is opened whatever it says.
var somewhere = evidence.Location{Scheme: evidence.FileScheme, Path: "/somewhere"}
