package local

import "syscall"

// dieWithParent makes the kernel SIGKILL the program when firebreak dies
// (even by SIGKILL, which leaves firebreak no time to stop it). It reaches
// the program only, not what it started: those are ended on cancel (the
// group is killed) or, after a crash, by the next run's sweep. A setuid
// program (sudo) loses the signal at exec, as the kernel clears it then.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
