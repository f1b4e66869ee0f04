package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// manifest is the part of manifest.json the tests read.
type manifest struct {
	CaseID    string `json:"case_id"`
	RunID     string `json:"run_id"`
	Status    string `json:"status"`
	Operator  map[string]any
	Steps     []struct{ ID, Status string }
	Artifacts []struct {
		ID, Step, URI, SHA256 string
	}
}

func readManifest(t *testing.T, path string) manifest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the manifest: %v", err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("manifest %s: %v", path, err)
	}
	return m
}

func TestRunVerifyAndTamper(t *testing.T) {
	s := newSandbox(t)
	r := s.run("run", "local-check", "-i", "host=box1").want(t, 0)
	mpath := r.manifestPath(t)
	if !strings.HasPrefix(mpath, filepath.Join(s.dir, "evidence")+string(filepath.Separator)) {
		t.Errorf("manifest %s: want it under the default ./evidence", mpath)
	}
	m := readManifest(t, mpath)
	if m.Status != "succeeded" || len(m.Steps) != 4 || len(m.Artifacts) == 0 {
		t.Fatalf("manifest: got status %q, %d steps, %d artifacts; want succeeded, 4, some", m.Status, len(m.Steps), len(m.Artifacts))
	}
	if u, _ := m.Operator["user_id"].(string); !strings.HasPrefix(u, "local:") {
		t.Errorf("operator: got %v, want the local user when AWS is not configured", m.Operator)
	}
	caseDir := filepath.Dir(mpath)
	v := s.run("verify", caseDir).want(t, 0)
	contains(t, "verify of an unsigned case", v.stdout, "OK: every artifact and the custody chain match; WARNING: the manifest is not signed")
	s.run("verify", mpath).want(t, 0)

	t.Run("tampered artifact", func(t *testing.T) {
		a, path := nonEmptyArtifact(t, m)
		restore := flipByte(t, path, 0)
		defer restore()
		r := s.run("verify", caseDir).want(t, 1)
		contains(t, "verify", r.stdout, "artifact "+a.ID, "sha256 mismatch")
	})
	t.Run("tampered custody line", func(t *testing.T) {
		path := filepath.Join(caseDir, "custody.jsonl")
		restore := editLine(t, path, 2)
		defer restore()
		r := s.run("verify", caseDir).want(t, 1)
		contains(t, "verify", r.stdout, "custody line 3: prev hash does not match line 2")
	})
	s.run("verify", caseDir).want(t, 0) // both restored: intact again
}

// nonEmptyArtifact returns the first artifact with at least one byte.
func nonEmptyArtifact(t *testing.T, m manifest) (struct{ ID, Step, URI, SHA256 string }, string) {
	t.Helper()
	for _, a := range m.Artifacts {
		path := strings.TrimPrefix(a.URI, "file://")
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return a, path
		}
	}
	t.Fatalf("no non-empty artifact among %+v", m.Artifacts)
	return m.Artifacts[0], ""
}

// flipByte changes one byte of a file and returns how to undo it.
func flipByte(t *testing.T, path string, at int) func() {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil || len(data) <= at {
		t.Fatalf("artifact %s: %v (%d bytes)", path, err, len(data))
	}
	orig := bytes.Clone(data)
	data[at] ^= 0x01
	writeFile(t, path, data)
	return func() { writeFile(t, path, orig) }
}

// editLine changes one character of the custody log's line n (1-based)
// while keeping it valid JSON, so only the hash chain can tell.
func editLine(t *testing.T, path string, n int) func() {
	t.Helper()
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(orig), "\n")
	if len(lines) < n+1 {
		t.Fatalf("custody log has %d lines, want more than %d", len(lines), n)
	}
	edited := strings.Replace(lines[n-1], `"seq":`, `"seq": `, 1)
	if edited == lines[n-1] {
		t.Fatalf("custody line %d has no seq: %s", n, lines[n-1])
	}
	lines[n-1] = edited
	writeFile(t, path, []byte(strings.Join(lines, "\n")))
	return func() { writeFile(t, path, orig) }
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunFailedStepExits1(t *testing.T) {
	s := newSandbox(t)
	r := s.run("run", "fails").want(t, 1)
	m := readManifest(t, r.manifestPath(t))
	got := map[string]string{}
	for _, st := range m.Steps {
		got[st.ID] = st.Status
	}
	want := map[string]string{"bad": "failed", "after": "skipped", "other": "succeeded"}
	for id, status := range want {
		if got[id] != status {
			t.Errorf("step %s: got %q, want %q (all: %v)", id, got[id], status, got)
		}
	}
	if m.Status != "failed" {
		t.Errorf("manifest status: got %q, want failed", m.Status)
	}
	s.run("verify", filepath.Dir(r.manifestPath(t))).want(t, 0) // a failed run's evidence is still intact
}

func TestDryRunRunsNothing(t *testing.T) {
	s := newSandbox(t)
	target := filepath.Join(s.dir, "created-by-the-run")
	r := s.run("run", "touch", "-i", "path="+target, "--dry-run").want(t, 0)
	contains(t, "dry-run", r.stdout, "exec touch "+target, "mode: check")
	if _, err := os.Stat(target); err == nil {
		t.Fatalf("--dry-run created %s: it ran the step", target)
	}
	s.run("plan", "touch", "-i", "path="+target, "--check").want(t, 0)
	if _, err := os.Stat(target); err == nil {
		t.Fatalf("plan --check created %s: it ran the step", target)
	}
	// The same command without --dry-run does create it: the test can tell.
	s.run("run", "touch", "-i", "path="+target).want(t, 0)
	if _, err := os.Stat(target); err != nil {
		t.Fatalf("run without --dry-run: %v", err)
	}
}

// interrupt starts firebreak with args, waits until the step called step
// is running (one log line per state change without a terminal), sends sig
// as an operator would, and waits for the end.
func (s *sandbox) interrupt(sig syscall.Signal, step string, args ...string) result {
	s.t.Helper()
	cmd := s.command(args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	var seen bytes.Buffer
	sc := bufio.NewScanner(io.TeeReader(stderr, &seen))
	for sc.Scan() {
		if line := sc.Text(); strings.Contains(line, "step="+step) && strings.Contains(line, "status=running") {
			break
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signalling firebreak: %v\n%s", err, seen.String())
	}
	io.Copy(io.Discard, io.TeeReader(stderr, &seen))
	return result{code: exitOf(s.t, cmd.Wait()), stdout: stdout.String(), stderr: seen.String()}
}

func TestCtrlCInterrupts(t *testing.T) {
	s := newSandbox(t)
	r := s.interrupt(syscall.SIGINT, "wait", "run", "blocks", "-i", "marker="+filepath.Join(s.dir, "never"))
	r.want(t, 3)
	if m := readManifest(t, r.manifestPath(t)); m.Status != "interrupted" {
		t.Errorf("manifest after Ctrl-C: got status %q, want interrupted", m.Status)
	}
	contains(t, "Ctrl-C", r.stderr, "firebreak resume "+r.resumeID(t))
}

func TestInterruptResumeRuns(t *testing.T) {
	s := newSandbox(t)
	marker := filepath.Join(s.dir, "marker")
	r := s.interrupt(syscall.SIGTERM, "wait", "run", "blocks", "-i", "marker="+marker, "--case", "case-interrupt")
	r.want(t, 3)
	runID := r.resumeID(t)
	mpath := r.manifestPath(t)
	if m := readManifest(t, mpath); m.Status != "interrupted" {
		t.Errorf("manifest after SIGTERM: got status %q, want interrupted", m.Status)
	}
	s.run("verify", mpath).want(t, 0) // sealed even when interrupted

	runs := s.run("runs").want(t, 0)
	contains(t, "runs", runs.stdout, runID, "blocks", "case-interrupt", "interrupted")

	writeFile(t, marker, nil) // the blocking step now returns at once
	res := s.run("resume", runID).want(t, 0)
	if got := res.manifestPath(t); got != mpath {
		t.Errorf("resume wrote %s, want the same case's %s", got, mpath)
	}
	m := readManifest(t, mpath)
	if m.Status != "succeeded" || m.RunID != runID {
		t.Errorf("manifest after resume: got status %q run %q, want succeeded %s", m.Status, m.RunID, runID)
	}
	s.run("verify", mpath).want(t, 0)
	contains(t, "runs after resume", s.run("runs").stdout, "succeeded")
	var listed []struct{ ID, Status, Playbook string }
	if err := json.Unmarshal([]byte(s.run("runs", "--format", "json").want(t, 0).stdout), &listed); err != nil {
		t.Fatalf("runs --format json: %v", err)
	}
	if len(listed) != 1 || listed[0].ID != runID || listed[0].Status != "succeeded" || listed[0].Playbook != "blocks" {
		t.Errorf("runs --format json: got %+v, want the one resumed run, succeeded", listed)
	}
	s.run("resume", runID).want(t, 0) // nothing left to do is not an error
	s.run("resume", "run-nope").want(t, 2)
}

func TestTargets(t *testing.T) {
	s := newSandbox(t)
	targets := filepath.Join(s.dir, "targets.txt")
	writeFile(t, targets, []byte("alpha\n# a comment\n\nbeta\ngamma/1\n"))
	r := s.run("run", "local-check", "--targets", targets, "--case", "batch1", "--parallelism", "2").want(t, 0)
	for _, sub := range []string{"alpha", "beta", "gamma_1"} {
		mpath := filepath.Join(s.dir, "evidence", "batch1", sub, "manifest.json")
		m := readManifest(t, mpath)
		if m.Status != "succeeded" || m.CaseID != sub {
			t.Errorf("%s: got status %q case %q, want succeeded %s", sub, m.Status, m.CaseID, sub)
		}
		s.run("verify", mpath).want(t, 0)
	}
	contains(t, "summary", r.stderr, "TARGET", "alpha", "beta", "gamma/1")
	batch := filepath.Join(s.dir, "evidence", "batch1")
	v := s.run("verify", batch).want(t, 0) // the batch dir: every case in it
	contains(t, "verify batch", v.stdout, "batch: 3 case(s) verified, 0 failed")
	restore := editLine(t, filepath.Join(batch, "beta", "custody.jsonl"), 2)
	v = s.run("verify", batch).want(t, 1)
	contains(t, "verify batch with a tampered case", v.stdout, "case beta:", "MISMATCH", "batch: 3 case(s) verified, 1 failed")
	restore()

	// --dry-run plans each target and runs none.
	marker := filepath.Join(s.dir, "dry")
	r = s.runStdin("alpha\nbeta\n", "run", "local-check", "--targets", "-", "--dry-run", "--evidence", marker)
	r.want(t, 0)
	contains(t, "dry-run targets", r.stdout, "# target 1 of 2", "# target 2 of 2", `exec echo "hello alpha"`, `exec echo "hello beta"`)
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("--dry-run --targets made an evidence dir: it ran something")
	}
	// Targets from stdin run too.
	r = s.runStdin("delta\n", "run", "local-check", "--targets", "-", "--case", "batch2").want(t, 0)
	readManifest(t, filepath.Join(s.dir, "evidence", "batch2", "delta", "manifest.json"))

	// A bad target stops the batch before any run starts, and names its line.
	bad := filepath.Join(s.dir, "bad.txt")
	writeFile(t, bad, []byte("i-0abc\n\n  bogus\n"))
	r = s.run("run", "from-finding", "--targets", bad, "--case", "batch3").want(t, 2)
	contains(t, "bad target", r.stderr, bad+`:3:3: target "bogus": `, "instance_id")
	if _, err := os.Stat(filepath.Join(s.dir, "evidence", "batch3")); err == nil {
		t.Errorf("a run started before the bad target was found")
	}
	s.run("run", "touch", "--targets", bad).want(t, 2) // touch has no target input
}

func TestSignedManifest(t *testing.T) {
	s := newSandbox(t)
	key := filepath.Join(s.dir, "sign.pem")
	other := filepath.Join(s.dir, "other.pem")
	for _, k := range []string{key, other} {
		if _, err := evidence.GenerateEd25519Key(k); err != nil {
			t.Fatal(err)
		}
	}
	r := s.run("run", "local-check", "--sign-key", key).want(t, 0)
	mpath := r.manifestPath(t)
	v := s.run("verify", mpath, "--pub", key).want(t, 0) // a private key file gives its public half
	contains(t, "verify --pub", v.stdout, "signature:")
	v = s.run("verify", mpath, "--pub", other).want(t, 1)
	contains(t, "verify with another key", v.stdout, "MISMATCH", "signature")
	s.run("run", "local-check", "--sign-key", filepath.Join(s.dir, "missing.pem")).want(t, 2)
}
