//go:build !linux

package local

import "syscall"

// dieWithParent does nothing here: only Linux has a parent-death signal.
// A crash leaves the program running; the next run's sweep ends it.
func dieWithParent(*syscall.SysProcAttr) {}
