package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNoOrphanedChildren: a command step's program dies with firebreak,
// even when firebreak is killed outright (SIGKILL leaves it no time to stop
// anything: the kernel's parent-death signal does it), and what the program
// started survives only until the run is resumed: resume ends it before it
// runs the step again, and the custody log says so.
func TestNoOrphanedChildren(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc (Linux)")
	}
	s := newSandbox(t)
	fifo, marker := filepath.Join(s.dir, "pids"), filepath.Join(s.dir, "marker")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := s.command("run", "orphans", "-i", "fifo="+fifo, "-i", "marker="+marker)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pids := readFIFO(t, fifo) // blocks until the step's program wrote them
	leader, child := pids[0], pids[1]
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !gone(leader, 30*time.Second) {
		_ = syscall.Kill(leader, syscall.SIGKILL)
		t.Fatalf("the step's program (pid %d) outlived firebreak killed by SIGKILL: no parent-death signal", leader)
	}
	if !running(child) {
		t.Fatalf("the program's own child (pid %d) is gone already; the test needs it to survive firebreak", child)
	}

	writeFile(t, marker, nil) // the step now ends at once when run again
	runID := onlyRun(t, s)
	res := s.run("resume", runID).want(t, 0)
	if running(child) {
		t.Errorf("pid %d, left running by the killed firebreak, still runs after resume:\n%s", child, res)
	}
	custody, err := os.ReadFile(filepath.Join(filepath.Dir(res.manifestPath(t)), "custody.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, line := range strings.Split(string(custody), "\n") {
		if strings.Contains(line, `"event":"process.survivor"`) && strings.Contains(line, fmt.Sprintf(`"pgid":%d`, leader)) &&
			strings.Contains(line, strconv.Itoa(child)) && strings.Contains(line, `"killed":true`) {
			found = true
		}
	}
	if !found {
		t.Errorf("custody log lacks a process.survivor event for group %d with member %d:\n%s", leader, child, custody)
	}
	s.run("verify", filepath.Dir(res.manifestPath(t))).want(t, 0)
}

// readFIFO reads the two pids the step's program writes to path.
func readFIFO(t *testing.T, path string) [2]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [2]int
	f := strings.Fields(string(b))
	if len(f) != 2 {
		t.Fatalf("pids %q: want two", b)
	}
	for i := range f {
		if out[i], err = strconv.Atoi(f[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// running reports whether pid is a live process; a zombie has ended.
func running(pid int) bool {
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

// gone waits, at most limit, for pid to end. The limit only keeps a broken
// build from hanging the test; a killed process ends at once.
func gone(pid int, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !running(pid) {
			return true
		}
	}
	return false
}

// onlyRun is the id of the one run in the sandbox's state dir.
func onlyRun(t *testing.T, s *sandbox) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.state, "runs"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("runs in the state dir: %v %v, want one", entries, err)
	}
	return entries[0].Name()
}
