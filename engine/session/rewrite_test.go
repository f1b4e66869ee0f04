package session_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
)

// signerFor writes an ed25519 key and loads it.
func signerFor(t *testing.T) *evidence.Ed25519Signer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if _, err := evidence.GenerateEd25519Key(path); err != nil {
		t.Fatal(err)
	}
	s, err := evidence.LoadEd25519Signer(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNewRunRefusesAnExistingCase: a second run naming a finished case
// (run --case ID) is refused before anything is recorded, and the signed
// manifest there is untouched.
func TestNewRunRefusesAnExistingCase(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pb := w.load(t, twoSteps)
	m := w.manager(nil)
	signer := signerFor(t)
	run, err := m.Start(t.Context(), &session.Request{Playbook: pb, Inputs: map[string]any{}, Evidence: somewhere,
		CaseID: "cr-kept", Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	if out := run.Wait(); out.Status != engine.RunSucceeded {
		t.Fatalf("first run: %q %v", out.Status, out.Err)
	}
	manifest := filepath.Join(w.store.Root(), "cr-kept", "manifest.json")
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []evidence.Signer{nil, signer, signerFor(t)} {
		_, err := m.Start(t.Context(), &session.Request{Playbook: pb, Inputs: map[string]any{}, Evidence: somewhere,
			CaseID: "cr-kept", RunID: "run-20261129T120000Z-000001", Signer: s})
		if !errors.Is(err, evidence.ErrCaseExists) || !strings.Contains(err.Error(), "firebreak resume "+run.ID) {
			t.Fatalf("second run on the case: got %v, want ErrCaseExists naming `firebreak resume %s`", err, run.ID)
		}
	}
	if _, err := os.Stat(filepath.Join(w.state, "runs", "run-20261129T120000Z-000001")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused run left its run dir: %v", err)
	}
	if after, _ := os.ReadFile(manifest); !bytes.Equal(after, before) {
		t.Fatal("the refused run changed the manifest")
	}
	rep, err := evidence.Verify(t.Context(), w.store, "cr-kept", signer.Public())
	if err != nil || !rep.OK() || !rep.Trusted {
		t.Fatalf("Verify with the first run's key: %v %v", err, rep)
	}
}

// TestResumeKeepsTheSigner: a resume whose signing key is gone from its
// record, or another key, is refused before any step runs; the signed
// manifest of the interrupted run stays; the run's own key resumes it.
func TestResumeKeepsTheSigner(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pb := w.load(t, twoSteps+`    approve: "go on?"
`)
	abs, err := filepath.Abs("test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := w.manager(map[string]*engine.Playbook{abs: pb})
	signer := signerFor(t)
	run, err := m.Start(t.Context(), &session.Request{Playbook: pb, Inputs: map[string]any{}, Evidence: somewhere, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	if out := run.Wait(); out.Status != engine.RunInterrupted {
		t.Fatalf("first: %q %v; want interrupted for approval", out.Status, out.Err)
	}
	manifest := filepath.Join(w.store.Root(), run.CaseID, "manifest.json")
	before, _ := os.ReadFile(manifest)
	for name, s := range map[string]evidence.Signer{"unsigned": nil, "another key": signerFor(t)} {
		req, err := m.ResumeRequest(t.Context(), run.ID)
		if err != nil {
			t.Fatal(err)
		}
		req.Signer, req.SignKey, req.Approver = s, "", runner.AutoApprove
		if _, err := m.Resume(t.Context(), req); !errors.Is(err, evidence.ErrSignerChanged) {
			t.Fatalf("resume %s: got %v, want ErrSignerChanged", name, err)
		}
		if w.ran("second") != 0 {
			t.Fatalf("resume %s ran a step", name)
		}
	}
	if after, _ := os.ReadFile(manifest); !bytes.Equal(after, before) {
		t.Fatal("a refused resume changed the manifest")
	}
	req, err := m.ResumeRequest(t.Context(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	req.Signer, req.Approver = signer, runner.AutoApprove
	again, err := m.Resume(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if out := again.Wait(); out.Status != engine.RunSucceeded {
		t.Fatalf("resume with the run's key: %q %v", out.Status, out.Err)
	}
	rep, err := evidence.Verify(t.Context(), w.store, run.CaseID, signer.Public())
	if err != nil || !rep.OK() || !rep.Trusted {
		t.Fatalf("Verify: %v %v", err, rep)
	}
}
