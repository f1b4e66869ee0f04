package runner

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

const crashEnv = "FIREBREAK_RUNNER_CRASH_DIR"

func crashPlaybook() *engine.Playbook {
	return playbook(step("a", "do"), step("b", "do", "a"), step("c", "do", "b"))
}

// TestResumeAfterProcessCrash kills a real process with SIGKILL while step b
// runs, then resumes its run here: the journal it left keeps a, and only b
// and c run again.
func TestResumeAfterProcessCrash(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	// Not parallel: between fork and exec the child holds copies of every
	// open file, journal locks of parallel tests included, and could make
	// their finished runs look live for a moment.
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeAfterProcessCrash$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v, want killed by SIGKILL\n%s", err, out)
	}
	st, err := LoadJournal(dir, "run-crash")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != engine.RunInterrupted || !st.Crashed || st.Steps["a"].Status != engine.StatusSucceeded || st.Steps["b"].Status != engine.StatusRunning {
		t.Fatalf("journal after the crash: run %s (crashed %v), a %s, b %s; want interrupted (crashed), succeeded, running",
			st.Status, st.Crashed, st.Steps["a"].Status, st.Steps["b"].Status)
	}
	c := newCounter(nil)
	res, err := Resume(context.Background(), Config{Registry: registry(c.action("do")), Playbook: crashPlaybook(), StateDir: dir, RunID: "run-crash"})
	if err != nil || res.Status != engine.RunSucceeded {
		t.Fatalf("Resume: %v, %v", res.Status, err)
	}
	if c.count("a") != 0 || c.count("b") != 1 || c.count("c") != 1 {
		t.Errorf("runs after resume: a %d, b %d, c %d; want 0, 1, 1", c.count("a"), c.count("b"), c.count("c"))
	}
}

// crashChild runs the playbook and dies, unannounced, inside step b.
func crashChild(dir string) {
	c := newCounter(func(in *engine.StepInput) (engine.Outputs, error) {
		if in.StepID == "b" {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		return engine.Outputs{"ok": true}, nil
	})
	Run(context.Background(), Config{Registry: registry(c.action("do")), Playbook: crashPlaybook(), StateDir: dir, RunID: "run-crash"})
	os.Exit(0) // not reached: the kill must happen
}
