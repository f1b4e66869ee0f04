package local

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// killWait bounds the wait for a group's killed members to be gone. SIGKILL
// cannot be ignored, so only a process stuck in the kernel (uninterruptible
// sleep) takes this long; on a loaded machine a killed process may still
// need several scheduling rounds to exit, which is why this is not grace.
const killWait = 10 * time.Second

// startGroup starts cmd (prepared with newCmd: its own process group, and
// on Linux a parent-death signal) and waits for it on a goroutine locked to
// the OS thread that forked it: Linux sends the parent-death signal when
// that thread exits, not the process, so the thread must live as long as
// the child. started is called with the pid right after the start, before
// anything else. The returned channel gives cmd.Wait's answer.
func startGroup(cmd *exec.Cmd, started func(pid int)) (<-chan error, error) {
	up, done := make(chan error, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			up <- err
			return
		}
		started(cmd.Process.Pid)
		up <- nil
		done <- cmd.Wait()
	}()
	if err := <-up; err != nil {
		return nil, err
	}
	return done, nil
}

// waitGroupLeader waits for the command started in its own process group
// (pgid, its pid) to end (done, from startGroup), or for ctx to end first.
// On ctx's end it sends SIGTERM to the whole group, so a shell's children
// go too, and SIGKILL after grace to whatever ignored it. In every case,
// once the leader has exited, what is left of its group is killed and
// waited for: no process of a step outlives the step.
// It reports whether the command was stopped because ctx ended.
func waitGroupLeader(ctx context.Context, pgid int, done <-chan error, grace time.Duration) (stopped bool, err error) {
	defer func() {
		killGroup(pgid, syscall.SIGKILL)
		awaitGroupGone(pgid, killWait)
	}()
	select {
	case err = <-done:
		return false, err
	case <-ctx.Done():
	}
	select {
	case err = <-done: // it finished as time ran out: that is a finish
		return false, err
	default:
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
	for pgid > 1 && groupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// groupAlive reports whether a process of the group still runs. Zombies do
// not count: they have ended and wait for their reaper (init, which may
// reap slowly). Without /proc, any member counts.
func groupAlive(pgid int) bool {
	if syscall.Kill(-pgid, 0) != nil {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		if e.Name()[0] < '1' || e.Name()[0] > '9' {
			continue
		}
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // gone meanwhile
		}
		if st.pgrp == pgid && st.state != 'Z' && st.state != 'X' {
			return true
		}
	}
	return false
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
