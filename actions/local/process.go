package local

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
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
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		if state, pgrp, ok := statFields(b); ok && pgrp == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// statFields reads the state and process group from /proc/PID/stat; the
// command name before them may hold spaces and parentheses.
func statFields(b []byte) (state byte, pgrp int, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 4 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err := strconv.Atoi(f[2])
	return f[0][0], pgrp, err == nil
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
