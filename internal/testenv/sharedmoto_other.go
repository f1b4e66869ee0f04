//go:build !linux

package testenv

import "os/exec"

// No parent-death signal here: each test starts and stops its own server.
const canBind = false

func bindToProcess(*exec.Cmd) {}
