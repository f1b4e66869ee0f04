package playbooks_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

func TestFanOutHashFilesRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var paths []any
	var sums []string
	for i, content := range []string{"#!/bin/sh\necho miner\n", "payload", ""} {
		p := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256([]byte(content))
		paths, sums = append(paths, p), append(sums, hex.EncodeToString(s[:]))
	}
	r := runPlaybook(t, "fan-out-hash-files.yaml", map[string]any{"paths": paths}, nil)
	if r.res.Status != engine.RunSucceeded {
		t.Fatalf("run: got %s (%v), want succeeded", r.res.Status, r.err)
	}
	items, _ := r.step(t, "hash").Outputs["items"].([]any)
	if len(items) != len(paths) {
		t.Fatalf("hash items: got %v, want %d in input order", r.step(t, "hash").Outputs, len(paths))
	}
	for i := range paths {
		want := sums[i] + "  " + paths[i].(string)
		if got := items[i].(map[string]any)["stdout"]; got != want {
			t.Errorf("hash item %d: got %q, want %q", i, got, want)
		}
		if got := r.artifact(t, "hash", fmt.Sprintf("stdout-item-%d.txt", i)); got != want+"\n" {
			t.Errorf("hash item %d artifact: got %q, want %q", i, got, want+"\n")
		}
	}
	if got := r.step(t, "types").Outputs["stdout"].(string); strings.Count(got, "\n") != len(paths)-1 {
		t.Errorf("types: got %q, want one line a file", got)
	}
}

func TestFanOutHashFilesMissingFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "gone")
	r := runPlaybook(t, "fan-out-hash-files.yaml", map[string]any{"paths": []any{missing}}, nil)
	if r.res.Status != engine.RunFailed {
		t.Fatalf("run: got %s, want failed (hash of a missing file)", r.res.Status)
	}
	// stat's failure is continue_on_error: recorded, not fatal; types
	// needs hash, which failed.
	wantStatus(t, r, map[string]engine.StepStatus{"hash": engine.StatusFailed, "stat": engine.StatusFailed, "types": engine.StatusSkipped})
	if got := r.artifact(t, "stat", "stderr-item-0.txt"); !strings.Contains(got, "No such file") {
		t.Errorf("stat stderr artifact: got %q, want the reason", got)
	}
}

// startSleeper starts a process the examples can find by a unique command
// line, and ends it with the test.
func startSleeper(t *testing.T, arg string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", arg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func TestSuspectProcessRuns(t *testing.T) {
	t.Parallel()
	// Unique to this test process, so nothing else matches, not even a
	// sleeper an earlier, crashed test run left behind.
	arg := fmt.Sprintf("100000.%d", os.Getpid())
	sleeper := startSleeper(t, arg)
	tests := []struct {
		name    string
		pattern string
		want    map[string]engine.StepStatus
		stdout  map[string]string
	}{
		{name: "found", pattern: "[s]leep " + arg,
			want: map[string]engine.StepStatus{"details": engine.StatusSucceeded, "open-files": engine.StatusSkipped,
				"none-found": engine.StatusSkipped, "find-failed": engine.StatusSkipped, "snapshot-table": engine.StatusSucceeded},
			stdout: map[string]string{"find": strconv.Itoa(sleeper.Process.Pid)}},
		{name: "not found", pattern: "[f]irebreak-no-such-process",
			want: map[string]engine.StepStatus{"details": engine.StatusSkipped, "none-found": engine.StatusSucceeded,
				"find-failed": engine.StatusSkipped, "snapshot-table": engine.StatusSucceeded},
			stdout: map[string]string{"none-found": "no process matched [f]irebreak-no-such-process"}},
		// An invalid regular expression makes pgrep itself fail (exit 2):
		// failed() runs the report step, always() the table.
		{name: "pgrep fails", pattern: "(",
			want: map[string]engine.StepStatus{"find": engine.StatusFailed, "details": engine.StatusSkipped,
				"find-failed": engine.StatusSucceeded, "snapshot-table": engine.StatusSucceeded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runPlaybook(t, "suspect-process.yaml", map[string]any{"pattern": tt.pattern}, nil)
			wantStatus(t, r, tt.want)
			for id, want := range tt.stdout {
				if got := r.step(t, id).Outputs["stdout"]; got != want {
					t.Errorf("step %s stdout: got %q, want %q", id, got, want)
				}
			}
		})
	}
}

func TestPersistenceHuntRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dropped := filepath.Join(dir, "kworker d") // a space, as droppers like
	if err := os.WriteFile(dropped, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not executable"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runPlaybook(t, "persistence-hunt.yaml", map[string]any{"writable_dirs": []any{dir}}, nil)
	if r.res.Status != engine.RunSucceeded {
		t.Fatalf("run: got %s (%v), want succeeded: optional places are continue_on_error", r.res.Status, r.err)
	}
	// preload succeeds whether the file is absent (ls exits 2) or not.
	wantStatus(t, r, map[string]engine.StepStatus{"preload": engine.StatusSucceeded, "tmp-executables": engine.StatusSucceeded,
		"hash-tmp-executables": engine.StatusSucceeded})
	if got := r.step(t, "tmp-executables").Outputs["stdout"]; got != dropped {
		t.Errorf("tmp-executables: got %q, want only %q", got, dropped)
	}
	sum := sha256.Sum256([]byte("#!/bin/sh\nexit 0\n"))
	if got, want := r.artifact(t, "hash-tmp-executables", "stdout.txt"), hex.EncodeToString(sum[:])+"  "+dropped+"\n"; got != want {
		t.Errorf("hash artifact: got %q, want %q", got, want)
	}
}
