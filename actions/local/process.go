package local

import (
	"context"
	"os/exec"
	"syscall"
	"time"
)

// waitGroupLeader waits for the command started in its own process group
// (Setpgid) to end, or for ctx to end first. On ctx's end it sends SIGTERM
// to the whole group, so a shell's children go too, and SIGKILL after grace
// to whatever ignored it. In every case, once the leader has exited, what
// is left of its group is killed: no process of a step outlives the step.
// It reports whether the command was stopped because ctx ended.
func waitGroupLeader(ctx context.Context, cmd *exec.Cmd, grace time.Duration) (stopped bool, err error) {
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		killGroup(pgid, syscall.SIGKILL)
		awaitGroupGone(pgid, grace)
	}()
	select {
	case err = <-done:
		return false, err
	case <-ctx.Done():
	}
	killGroup(pgid, syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		killGroup(pgid, syscall.SIGKILL)
		err = <-done
	}
	return true, err
}

// killGroup signals every process in the group.
func killGroup(pgid int, sig syscall.Signal) {
	if pgid <= 1 {
		return // -1 and -0 mean "every process we may signal" and "our own group"
	}
	// ESRCH (nobody left) is the normal end; EPERM (a member changed user)
	// leaves nothing more to do.
	_ = syscall.Kill(-pgid, sig)
}

// awaitGroupGone waits, at most limit, until the group's killed members
// are gone, so that when the step ends its processes have ended too. A
// member that outlives limit is left to the kernel: SIGKILL has been sent.
func awaitGroupGone(pgid int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for pgid > 1 && syscall.Kill(-pgid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// exitStatus describes how the process ended: its exit code, or -1 and the
// signal that killed it.
func exitStatus(ps interface{ Sys() any }) (code int, signal string) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		return -1, ""
	}
	if ws.Signaled() {
		return -1, ws.Signal().String()
	}
	return ws.ExitStatus(), ""
}
