package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/firebreak-ir/firebreak/engine/runner"
)

// invocation is what resume needs beyond the runner's journal: where the
// evidence goes, how the manifest is signed, and where the playbook came
// from. It sits beside the journal, StateDir/runs/RUN_ID/invocation.json.
type invocation struct {
	RunID       string `json:"run_id"`
	CaseID      string `json:"case_id"`
	Evidence    string `json:"evidence"`
	Playbook    string `json:"playbook_source"`
	SHA256      string `json:"playbook_sha256"`
	SignKey     string `json:"sign_key,omitempty"`
	Parallelism int    `json:"parallelism,omitempty"`
	Target      string `json:"target,omitempty"`
}

func invocationPath(stateDir, runID string) string {
	return filepath.Join(filepath.Dir(runner.JournalPath(stateDir, runID)), "invocation.json")
}

func writeInvocation(stateDir string, j *job) error {
	inv := invocation{RunID: j.runID, CaseID: j.caseID, Evidence: j.evidence.String(), Playbook: sourcePath(j.pb.Source),
		SHA256: j.pb.SHA256, SignKey: absPath(j.opts.signKey), Parallelism: j.opts.parallelism, Target: j.label}
	path := invocationPath(stateDir, j.runID)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("state dir %q: %w; set --state-dir to a writable directory", stateDir, err)
	}
	data, _ := json.MarshalIndent(inv, "", "  ")
	if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("recording run %q in the state dir: %w", j.runID, err)
	}
	return nil
}

func readInvocation(stateDir, runID string) (*invocation, error) {
	data, err := os.ReadFile(invocationPath(stateDir, runID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageErrorf("run %q has no invocation record in %s: it was not started by `firebreak run`, or the state dir differs (--state-dir)", runID, stateDir)
	}
	if err != nil {
		return nil, err
	}
	var inv invocation
	if err := json.Unmarshal(data, &inv); err != nil {
		return nil, fmt.Errorf("%s: %w", invocationPath(stateDir, runID), err)
	}
	return &inv, nil
}

// sourcePath makes a playbook file's source absolute; built-ins stay
// "builtin:...".
func sourcePath(src string) string {
	if src == "" || filepath.IsAbs(src) || len(src) > 8 && src[:8] == "builtin:" {
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
