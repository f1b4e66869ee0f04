package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHostileExpressions runs, under a 2 GiB address space limit (the Go runtime alone needs more than 1), a
// playbook whose expressions ask for a terabyte (a repeat of a repeat),
// double a string 50 times, or loop 900,000 times in a condition: each
// step fails naming the bound it hit, the step beside them runs, the run
// ends failed (exit 1) with its manifest, never with a Go fatal error.
func TestHostileExpressions(t *testing.T) {
	s := newSandbox(t)
	s.bin = "sh"
	cmd := s.command("-c", `ulimit -v 2097152 && exec "$0" "$@"`, binary, "run", "hostile-exprs")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := result{code: exitOf(t, cmd.Run()), stdout: stdout.String(), stderr: stderr.String()}
	if strings.Contains(r.stderr, "fatal error") || strings.Contains(r.stderr, "out of memory") {
		t.Fatalf("firebreak died:\n%s", r)
	}
	r.want(t, 1)
	m := readManifest(t, r.manifestPath(t))
	status := map[string]string{}
	for _, st := range m.Steps {
		status[st.ID] = st.Status
	}
	for id, want := range map[string]string{"repeat": "failed", "doubling": "failed", "long-when": "failed", "fine": "succeeded"} {
		if status[id] != want {
			t.Errorf("step %s: %q, want %s", id, status[id], want)
		}
	}
	contains(t, "run output", r.stderr, "repeat would make 999999 × 999999 bytes", "+ would make", "more than 100000 steps")
}

// TestInterruptDuringSlowExpression: SIGTERM while the coordinator
// evaluates a condition whose loops take minutes stops the run: the
// evaluation ends at its next loop step, the step stays unstarted (not
// failed: resume decides it again), the finally step runs, the manifest is
// written and firebreak exits 3.
func TestInterruptDuringSlowExpression(t *testing.T) {
	s := newSandbox(t)
	marker := filepath.Join(s.dir, "marker")
	cmd := s.command("run", "slow-when", "-i", "marker="+marker)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // the condition is evaluated once mark has ended
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if i > 6000 {
			_ = cmd.Process.Kill()
			t.Fatalf("mark never ran:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // into the evaluation
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := result{code: exitOf(t, cmd.Wait()), stdout: stdout.String(), stderr: stderr.String()}
	r.want(t, 3)
	m := readManifest(t, r.manifestPath(t))
	if m.Status != "interrupted" {
		t.Errorf("manifest status %q, want interrupted", m.Status)
	}
	status := map[string]string{}
	for _, st := range m.Steps {
		status[st.ID] = st.Status
	}
	if status["mark"] != "succeeded" || status["after"] != "succeeded" || status["slow"] == "failed" || status["slow"] == "succeeded" {
		t.Errorf("steps %v: want mark and the finally step succeeded, slow neither failed nor run", status)
	}
	if strings.Contains(r.stderr, "ran longer than") {
		t.Errorf("the condition ran to its time bound instead of stopping on SIGTERM:\n%s", r)
	}
	s.run("verify", r.manifestPath(t)).want(t, 0)
}
