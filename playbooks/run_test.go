package playbooks_test

import (
	"context"
	"io"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/playbooks"
)

// ran is one finished run of a playbook, with its evidence.
type ran struct {
	res    *runner.Result
	err    error
	store  *evidence.DirStore
	dir    string // the store's directory
	caseID string
}

// loadPlaybook loads an example (a path) or a built-in ("builtin:NAME").
func loadPlaybook(t *testing.T, file string) *engine.Playbook {
	t.Helper()
	l := &loader.Loader{Registry: registry()}
	var pb *engine.Playbook
	var err error
	if name, ok := strings.CutPrefix(file, "builtin:"); ok {
		data, rerr := fs.ReadFile(playbooks.FS, name+".yaml")
		if rerr != nil {
			t.Fatal(rerr)
		}
		pb, err = l.LoadBytes(file, data)
	} else {
		pb, err = l.LoadFile(filepath.Join("..", "examples", file))
	}
	if err != nil {
		t.Fatalf("loading %s:\n%v", file, err)
	}
	return pb
}

// runPlaybook runs file through the session with the real runner, actions
// and evidence case in a fresh directory store, and checks that the sealed
// case verifies.
// Retries wait for nothing: the backoff's length is the runner's concern.
func runPlaybook(t *testing.T, file string, given map[string]any, approver runner.Approver) ran {
	t.Helper()
	return runLoaded(t, loadPlaybook(t, file), given, approver)
}

// runPlaybookBytes is runPlaybook for a playbook given as text.
func runPlaybookBytes(t *testing.T, name string, data []byte, given map[string]any, approver runner.Approver) ran {
	t.Helper()
	pb, err := (&loader.Loader{Registry: registry()}).LoadBytes(name, data)
	if err != nil {
		t.Fatalf("loading %s:\n%v", name, err)
	}
	return runLoaded(t, pb, given, approver)
}

func runLoaded(t *testing.T, pb *engine.Playbook, given map[string]any, approver runner.Approver) ran {
	t.Helper()
	ctx := context.Background()
	inputs, err := loader.ResolveInputs(pb, given, nil)
	if err != nil {
		t.Fatalf("inputs: %v", err)
	}
	dir := t.TempDir()
	store, err := evidence.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := &session.Manager{Backend: &session.Local{Registry: registry(),
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}}
	run, err := m.Start(ctx, &session.Request{Playbook: pb, Inputs: inputs, Store: store, Approver: approver})
	if err != nil {
		t.Fatal(err)
	}
	o := run.Wait()
	out := ran{store: store, dir: dir, caseID: o.CaseID, res: o.Result, err: o.Err}
	if out.res == nil {
		t.Fatalf("Run: no result: %v", out.err)
	}
	if o.Manifest == nil {
		t.Fatalf("the case was not sealed: %v", o.Err)
	}
	rep, err := evidence.Verify(ctx, store, out.caseID, nil)
	if err != nil || !rep.OK() {
		t.Fatalf("Verify: got %v %+v, want an intact case", err, rep)
	}
	return out
}

// step returns the record of id, failing the test when there is none.
func (r ran) step(t *testing.T, id string) engine.StepRecord {
	t.Helper()
	s, ok := r.res.Step(id)
	if !ok {
		t.Fatalf("no step %q in the result", id)
	}
	return s
}

// artifact reads artifacts/STEP/NAME of the case.
func (r ran) artifact(t *testing.T, step, name string) string {
	t.Helper()
	rc, err := r.store.Open(context.Background(), r.caseID+"/artifacts/"+step+"/"+name)
	if err != nil {
		t.Fatalf("artifact %s/%s: %v", step, name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantStatus(t *testing.T, r ran, want map[string]engine.StepStatus) {
	t.Helper()
	for id, w := range want {
		if s := r.step(t, id); s.Status != w {
			t.Errorf("step %s: got %s (%s%s), want %s", id, s.Status, s.Error, s.SkipReason, w)
		}
	}
}

func TestLocalTriageRuns(t *testing.T) {
	r := runPlaybook(t, "builtin:local-triage", nil, nil)
	if r.res.Status != engine.RunSucceeded {
		t.Fatalf("run: got %s (%v), want succeeded", r.res.Status, r.err)
	}
	uname, err := exec.Command("uname", "-a").Output()
	if err != nil {
		t.Fatal(err)
	}
	kernel := r.step(t, "kernel")
	if got, want := kernel.Outputs["stdout"], strings.TrimSpace(string(uname)); got != want {
		t.Errorf("kernel stdout: got %q, want %q", got, want)
	}
	if got := r.artifact(t, "kernel", "stdout.txt"); got != string(uname) {
		t.Errorf("kernel artifact: got %q, want %q", got, uname)
	}
	if got := r.artifact(t, "identity", "stdout.txt"); !strings.HasPrefix(got, "uid=") {
		t.Errorf("identity artifact: got %q, want id's output", got)
	}
	if got := r.artifact(t, "processes", "stdout.txt"); !strings.Contains(got, "COMMAND") {
		t.Errorf("processes artifact: got %q..., want a ps table", got[:min(len(got), 80)])
	}
	// netstat runs only when ss failed: one of the two decides the other.
	sockets, netstat := r.step(t, "sockets"), r.step(t, "sockets-netstat")
	if (sockets.Status == engine.StatusSucceeded) != (netstat.Status == engine.StatusSkipped) {
		t.Errorf("sockets %s, sockets-netstat %s: want netstat skipped exactly when ss succeeded", sockets.Status, netstat.Status)
	}
}
