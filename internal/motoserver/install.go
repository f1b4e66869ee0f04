package motoserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Requirement is the moto Install puts in its virtualenv: the major
// version the tests and the demo are written against.
const Requirement = "moto[server]>=5,<6"

// ErrNoVenv: python3 cannot make a virtualenv (Debian and Ubuntu ship
// venv's ensurepip in a package of its own).
var ErrNoVenv = errors.New("python3 cannot make a virtualenv: install the python3-venv package (Debian/Ubuntu: sudo apt-get install python3-venv), then run the demo again")

// Find returns the moto_server to run: the one on PATH, else the one a
// previous Install left in venv; "" when there is neither.
func Find(venv string) string {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p
	}
	if p := venvServer(venv); isExecutable(p) {
		return p
	}
	return ""
}

// Install makes a virtualenv at venv with python3 -m venv and installs
// Requirement into it with its pip (which needs PyPI, or a pip
// configuration that points elsewhere), and returns its moto_server. A
// half-made venv (an earlier Install that failed or was stopped) is
// removed first, and so is what a failing Install made: the next one
// starts clean. logf reports what it is doing: pip takes a minute.
func Install(ctx context.Context, venv string, logf func(format string, a ...any)) (string, error) {
	python, err := exec.LookPath("python3")
	if err != nil {
		return "", fmt.Errorf("moto_server is not on PATH and python3 is not either: install Python 3 and python3-venv (the demo then installs moto itself), or install moto: pip install '%s'", Requirement)
	}
	if err := os.RemoveAll(venv); err != nil {
		return "", fmt.Errorf("removing the half-made virtualenv %s: %w", venv, err)
	}
	if err := os.MkdirAll(filepath.Dir(venv), 0o700); err != nil {
		return "", err
	}
	logf("moto_server is not on PATH: installing moto into a virtualenv at %s (python3 -m venv, then pip install '%s')...", venv, Requirement)
	if out, err := run(ctx, python, "-m", "venv", venv); err != nil {
		os.RemoveAll(venv)
		return "", fmt.Errorf("%w (python3 -m venv said: %s)", ErrNoVenv, lastLine(out, err))
	}
	py := filepath.Join(venv, "bin", "python")
	if out, err := run(ctx, py, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", Requirement); err != nil {
		os.RemoveAll(venv)
		return "", fmt.Errorf("pip install '%s' failed (it needs PyPI): %s; install moto yourself so that moto_server is on PATH, or run the demo again once pip can reach its index", Requirement, lastLine(out, err))
	}
	bin := venvServer(venv)
	if !isExecutable(bin) {
		os.RemoveAll(venv)
		return "", fmt.Errorf("pip installed '%s' but %s is not there", Requirement, bin)
	}
	logf("moto installed: %s", bin)
	return bin, nil
}

func venvServer(venv string) string { return filepath.Join(venv, "bin", "moto_server") }

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode().Perm()&0o111 != 0
}

// run runs a command, returning its combined output.
func run(ctx context.Context, name string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// lastLine is the last non-empty line a failed command printed (where
// python and pip put the reason), or its error when it printed nothing.
func lastLine(out []byte, err error) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return l
	}
	return err.Error()
}
