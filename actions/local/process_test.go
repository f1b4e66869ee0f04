package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
)

// alive reports whether pid is a live process. A zombie is dead: it only
// waits for its reaper.
func alive(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || (b[i+2] != 'Z' && b[i+2] != 'X')
}

// fifo makes a named pipe the script reports its grandchild's pid through:
// opening it for reading blocks until the script has written, so the test
// waits on the script, not on a clock.
func fifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pid")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	return p
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path) // blocks until the writer closes
	if err != nil {
		t.Fatalf("reading the pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid %q: %v", b, err)
	}
	return pid
}

type result struct {
	out engine.Outputs
	err error
}

func TestCommandCancelKillsProcessGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, script string
		grace        string
		wantSignal   string
	}{
		// sh waits on a grandchild; SIGTERM to the group ends both.
		{"terminates", `echo started; sleep 1000 & echo $! > "$0"; wait`, "30s", "terminated"},
		// Everything ignores SIGTERM (ignored signals survive exec): only
		// the SIGKILL after the grace period ends it.
		{"kills what ignores SIGTERM", `trap '' TERM; echo started; sleep 1000 & echo $! > "$0"; while :; do wait; done`, "50ms", "killed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pidFile := fifo(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan result, 1)
			ev := enginetest.NewEvidence()
			go func() {
				out, err := run(t, ctx, engine.Params{"argv": argv("sh", "-c", tt.script, pidFile), "grace": mustDuration(tt.grace)}, ev)
				done <- result{out, err}
			}()
			grandchild := readPid(t, pidFile)
			if !alive(grandchild) {
				t.Fatalf("grandchild %d: dead before the cancel", grandchild)
			}
			cancel()
			r := awaitStep(t, done, grandchild)
			if r.err == nil || !errors.Is(r.err, context.Canceled) || engine.IsRetryable(r.err) {
				t.Fatalf("Run: got %v, want a non-retryable error wrapping context.Canceled", r.err)
			}
			if alive(grandchild) {
				t.Errorf("grandchild %d: alive after the step returned, want it killed with the group", grandchild)
			}
			// What a stopped command printed is evidence too.
			if got, _ := ev.Object("stdout.txt"); string(got) != "started\n" {
				t.Errorf("stdout artifact: got %q, want %q", got, "started\n")
			}
			if r.out["exit_code"] != -1 {
				t.Errorf("exit_code: got %v, want -1 (killed by %s)", r.out["exit_code"], tt.wantSignal)
			}
		})
	}
}

// awaitStep waits for the step to return. A generous bound guards against
// a hang (a broken SIGKILL leaves the step waiting forever): the test then
// fails with a clear message instead of the 10-minute go test timeout, and
// kills the group itself.
func awaitStep(t *testing.T, done <-chan result, member int) result {
	t.Helper()
	guard, stop := context.WithTimeout(t.Context(), 60*time.Second)
	defer stop()
	select {
	case r := <-done:
		return r
	case <-guard.Done():
		if pgid, err := syscall.Getpgid(member); err == nil && pgid > 1 {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		t.Fatalf("the step did not return 60s after its cancel: its process group was not stopped")
		return result{}
	}
}

func mustDuration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestCommandTimeoutIsRetryable(t *testing.T) {
	t.Parallel()
	// The deadline passes while sleep runs, however slow the machine.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := run(t, ctx, engine.Params{"argv": argv("sleep", "1000")}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !engine.IsRetryable(err) {
		t.Fatalf("Run: got %v, want a retryable error wrapping context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "raise the step's timeout") {
		t.Errorf("Run: got %q, want advice to raise the timeout", err)
	}
}

func TestCommandKillsLeftoversAfterExit(t *testing.T) {
	t.Parallel()
	// The program exits at once but leaves a child holding stdout: the
	// step must neither hang on the pipe nor leave the child running.
	out, err := run(t, context.Background(), engine.Params{"argv": argv("sh", "-c", "sleep 1000 & echo $!")}, enginetest.NewEvidence())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	pid, err := strconv.Atoi(out["stdout"].(string))
	if err != nil {
		t.Fatalf("stdout %q: want the leftover's pid", out["stdout"])
	}
	if alive(pid) {
		t.Errorf("leftover %d: alive after the step returned, want it killed", pid)
	}
}

func TestCommandNotStartedAfterCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	marker := filepath.Join(t.TempDir(), "ran")
	_, err := run(t, ctx, engine.Params{"argv": argv("touch", marker)}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: got %v, want context.Canceled", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the program ran after the step was cancelled")
	}
}
