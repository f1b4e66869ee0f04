package memory

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestStallEndsTheStep: a target whose dd writes 1 MiB, then stops
// writing and ignores every signal (as a hung or hostile host does) fails
// the capture as stalled as soon as stall_timeout passes: the session is
// closed and the step ends without waiting for the remote process, which
// would hold it for as long as the process lives (here, until the test
// kills it). The megabyte that arrived is kept, marked incomplete.
func TestStallEndsTheStep(t *testing.T) {
	tg := startTarget(t)
	src := filepath.Join(t.TempDir(), "memory.img")
	randomFile(t, src, 4<<20, 3)
	pidFile := filepath.Join(t.TempDir(), "dd.pid")
	script := "#!/bin/sh\necho $$ > " + pidFile + "\ntrap '' TERM HUP INT PIPE QUIT USR1 USR2\nhead -c 1048576 /dev/zero\nexec sleep 1000\n"
	if err := os.WriteFile(filepath.Join(tg.BinDir, "dd"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // the remote process outlives the step by design
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	type res struct {
		out engine.Outputs
		err error
	}
	done := make(chan res, 1)
	go func() {
		out, _, err := runCapture(t, New(Options{}), tg.params(map[string]any{
			"method": "raw", "source": src, "sinks": []any{"file://" + t.TempDir()}, "stall_timeout": time.Second}))
		done <- res{out, err}
	}()
	var r res
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute): // a hang guard, not a timing: without the fix the step waits for sleep 1000
		t.Fatalf("the capture still runs long after its 1s stall: it waits for the remote command to exit\nsshd log:\n%s", tg.Log())
	}
	if !errors.Is(r.err, ErrStalled) {
		t.Fatalf("capture: %v, want %v", r.err, ErrStalled)
	}
	if r.out["complete"] != false || r.out["size"] != int64(1<<20) {
		t.Errorf("outputs complete=%v size=%v, want the 1 MiB that arrived, incomplete", r.out["complete"], r.out["size"])
	}
	if res, _ := r.out["remote_result"].(string); !strings.Contains(res, "not waited for") {
		t.Errorf("remote_result %q: want it to say the remote command was not waited for", r.out["remote_result"])
	}
}
