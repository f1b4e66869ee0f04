package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/firebreak-ir/firebreak/engine/runner"
)

// ErrNoRecord: a run has a journal but no record of how it was started
// (not started through a session, or another state dir), so it cannot be
// resumed.
var ErrNoRecord = errors.New("run has no invocation record")

// record is what a resume needs beyond the runner's journal: where the
// evidence goes, how the manifest is signed, where the playbook came
// from. It sits beside the journal, StateDir/runs/RUN_ID/invocation.json;
// its format is fixed (older firebreak wrote the same file).
type record struct {
	RunID       string `json:"run_id"`
	CaseID      string `json:"case_id"`
	Evidence    string `json:"evidence"`
	Playbook    string `json:"playbook_source"`
	SHA256      string `json:"playbook_sha256"`
	SignKey     string `json:"sign_key,omitempty"`
	Parallelism int    `json:"parallelism,omitempty"`
	Target      string `json:"target,omitempty"`
}

// noRecordError is ErrNoRecord, saying what to check.
type noRecordError struct{ runID, stateDir string }

func (e *noRecordError) Error() string {
	return fmt.Sprintf("run %q has no invocation record in %s: it was not started by `firebreak run`, or the state dir differs (--state-dir)", e.runID, e.stateDir)
}

func (e *noRecordError) Is(target error) bool { return target == ErrNoRecord }

func recordPath(stateDir, runID string) string {
	return filepath.Join(filepath.Dir(runner.JournalPath(stateDir, runID)), "invocation.json")
}

// Record writes job's record beside its journal. File paths (the playbook
// source, the signing key) are made absolute, so a resume from another
// working directory finds them. Without a StateDir it writes nothing.
func (l *Local) Record(_ context.Context, job *Job) error {
	if l.StateDir == "" {
		return nil
	}
	if err := runner.CheckRunID(job.RunID); err != nil {
		return err
	}
	rec := record{RunID: job.RunID, CaseID: job.CaseID, Evidence: job.Evidence, Playbook: sourcePath(job.Playbook.Source),
		SHA256: job.Playbook.SHA256, SignKey: absPath(job.SignKey), Parallelism: job.Parallelism, Target: job.Label}
	path := recordPath(l.StateDir, job.RunID)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("state dir %q: %w; set --state-dir to a writable directory", l.StateDir, err)
	}
	data, _ := json.MarshalIndent(rec, "", "  ") // plain strings and an int: it cannot fail
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("recording run %q in the state dir: %w", job.RunID, err)
	}
	return nil
}

func readRecord(stateDir, runID string) (*record, error) {
	if err := runner.CheckRunID(runID); err != nil {
		return nil, err
	}
	path := recordPath(stateDir, runID)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &noRecordError{runID: runID, stateDir: stateDir}
	}
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rec, nil
}

// sourcePath makes a playbook file's source absolute; built-ins stay
// "builtin:...".
func sourcePath(src string) string {
	if src == "" || filepath.IsAbs(src) || strings.HasPrefix(src, "builtin:") {
		return src
	}
	return absPath(src)
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
