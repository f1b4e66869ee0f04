package local

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
)

// startSleeper starts sleep in its own process group, as a command step
// would, and kills it when the test ends.
func startSleeper(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }() // reaped when killed, so it does not linger as a zombie
	t.Cleanup(func() { killGroup(cmd.Process.Pid, syscall.SIGKILL) })
	return cmd.Process.Pid
}

// deadPid is the pid of a process that has ended.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func writeRecord(t *testing.T, dir, name string, rec procRecord) string {
	t.Helper()
	b, _ := json.Marshal(rec)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSweepEndsWhatACrashedRunLeft: a command step first ends the process
// groups an earlier firebreak on the run left running when it died, and
// says so in the custody log; a group of this very process is left alone,
// and a program whose start was never completed is reported as a gap.
func TestSweepEndsWhatACrashedRunLeft(t *testing.T) {
	if _, err := readStat(os.Getpid()); err != nil {
		t.Skip("needs /proc")
	}
	t.Parallel()
	run := t.TempDir()
	dir := filepath.Join(run, "processes")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	self, _ := readStat(os.Getpid())
	left, ours := startSleeper(t), startSleeper(t)
	leftStat, _ := readStat(left)
	oursStat, _ := readStat(ours)
	dead := deadPid(t)
	base := procRecord{Step: "grab", Item: -1, Attempt: 1, Program: "sleep", Session: self.session, Boot: bootID()}
	r := base
	r.PID, r.Start, r.Owner, r.OwnerAt = left, leftStat.start, dead, 1
	leftRec := writeRecord(t, dir, "left.json", r)
	r = base
	r.PID, r.Start, r.Owner, r.OwnerAt = ours, oursStat.start, os.Getpid(), self.start
	oursRec := writeRecord(t, dir, "ours.json", r)
	r = base
	r.Owner, r.OwnerAt, r.Program = dead, 1, "half-started"
	halfRec := writeRecord(t, dir, "half.json", r)

	ev := enginetest.NewEvidence()
	in := &engine.StepInput{RunID: "run-1", StepID: "s", Attempt: 1, Evidence: ev, RunLogPath: filepath.Join(run, "journal.jsonl"),
		Params: engine.Params{"argv": argv("true")}}
	if _, err := (&command{}).Run(context.Background(), in); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if alive(left) {
		t.Errorf("pid %d, left by a dead firebreak, still runs", left)
	}
	if !alive(ours) {
		t.Errorf("pid %d, this process's own, was ended", ours)
	}
	surv := ev.EventsNamed("process.survivor")
	if len(surv) != 1 || surv[0]["pgid"] != left || surv[0]["killed"] != true || surv[0]["step"] != "grab" {
		t.Errorf("process.survivor events: %+v, want one for group %d, killed", surv, left)
	}
	if gaps := ev.EventsNamed("gap"); len(gaps) != 1 || gaps[0]["program"] != "half-started" {
		t.Errorf("gap events: %+v, want one for the half-started program", gaps)
	}
	for _, p := range []string{leftRec, halfRec} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s: still there after the sweep", filepath.Base(p))
		}
	}
	if _, err := os.Stat(oursRec); err != nil {
		t.Errorf("ours.json: %v, want it kept", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("records left: %v, want only ours.json (the step's own is removed when it ends)", entries)
	}
}
