package testenv

import (
	"os/exec"
	"syscall"
)

const canBind = true

// bindToProcess makes the kernel kill c when the thread that started it
// dies, which for the shared server is when the test binary exits.
func bindToProcess(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
