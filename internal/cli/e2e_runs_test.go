package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
)

// TestRunsHandleEveryRunDir: a run refused before its journal leaves no
// run dir; a run dir with no journal (killed before its first step) is a
// readable row, and its resume says why there is nothing to resume; a
// batch's runs show their batch and target, so two batches on one target
// are told apart.
func TestRunsHandleEveryRunDir(t *testing.T) {
	s := newSandbox(t)
	// Another process holds the case: the run is refused after the
	// preflight, before its journal.
	caseDir := filepath.Join(s.dir, "evidence", "cr-held")
	if err := os.MkdirAll(caseDir, 0o750); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(caseDir, ".lock"), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	r := s.run("run", "local-check", "--case", "cr-held")
	lock.Close()
	if r.code == 0 {
		t.Fatalf("a run on a held case: got exit 0\n%s", r)
	}
	contains(t, "held case", r.stderr, `case "cr-held" is being written by another run`)
	if entries, _ := os.ReadDir(filepath.Join(s.state, "runs")); len(entries) != 0 {
		t.Errorf("the refused run left %d run dir(s)", len(entries))
	}
	if out := s.run("runs").want(t, 0).stdout; regexp.MustCompile(`(?m)^run-`).MatchString(out) {
		t.Errorf("runs lists the refused run:\n%s", out)
	}

	// A run dir with a record and no journal.
	dir := filepath.Join(s.state, "runs", "run-20260101T000000Z-dead00")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "invocation.json"), []byte(`{"run_id":"run-20260101T000000Z-dead00","case_id":"cr-dead","evidence":"/nowhere","playbook_source":"builtin:local-triage.yaml","playbook_sha256":"x"}`+"\n"))
	out := s.run("runs").want(t, 0).stdout
	if !regexp.MustCompile(`(?m)^run-20260101T000000Z-dead00\s+-\s+cr-dead\s+-\s+not started: refused or killed before its first step`).MatchString(out) {
		t.Errorf("runs: want a readable row for the run that never started, got:\n%s", out)
	}
	rr := s.run("resume", "run-20260101T000000Z-dead00").want(t, 2)
	contains(t, "resume", rr.stderr, `run "run-20260101T000000Z-dead00" never started: refused or killed before its first step, nothing ran; start a new run`)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}

	// Two batches on one target.
	for _, b := range []string{"b1", "b2"} {
		s.runStdin("alpha\n", "run", "local-check", "--targets", "-", "--case", b).want(t, 0)
	}
	out = s.run("runs").want(t, 0).stdout
	for _, b := range []string{"b1", "b2"} {
		if !regexp.MustCompile(`(?m)^run-\S+\s+local-check\s+` + b + `/alpha\s+alpha\s+succeeded`).MatchString(out) {
			t.Errorf("runs: no row for batch %s's alpha:\n%s", b, out)
		}
	}
	var listed []struct {
		CaseID string `json:"case_id"`
		Batch  string `json:"batch"`
		Target string `json:"target"`
	}
	if err := json.Unmarshal([]byte(s.run("runs", "--format", "json").want(t, 0).stdout), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0].Batch == listed[1].Batch || listed[0].Target != "alpha" || listed[0].CaseID != "alpha" {
		t.Errorf("runs --format json: got %+v, want the two batches' alpha runs", listed)
	}
}
