package motoserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePython puts testdata/fake-python3 as python3 alone on PATH, in
// mode, and returns the file it logs its calls to. With python false,
// PATH is an empty dir.
func fakePython(t *testing.T, mode string, python bool) string {
	t.Helper()
	bin := t.TempDir()
	if python {
		data, err := os.ReadFile(filepath.Join("testdata", "fake-python3"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, "python3"), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(t.TempDir(), "calls")
	t.Setenv("PATH", bin)
	t.Setenv("FAKE_PYTHON_MODE", mode)
	t.Setenv("FAKE_PYTHON_LOG", log)
	return log
}

func calls(t *testing.T, log string) []string {
	data, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func gone(t *testing.T, venv string) {
	t.Helper()
	if _, err := os.Stat(venv); !os.IsNotExist(err) {
		t.Errorf("a failed install left %s behind (%v)", venv, err)
	}
}

// TestInstallDecides: the decision logic of installing moto for the demo,
// against a fake python3 (the real pip install needs PyPI, which the tests
// never reach): no python3, no venv module, pip failing, and a success
// that a second Find reuses without python3.
func TestInstallDecides(t *testing.T) {
	ctx := context.Background()
	logf := func(string, ...any) {}

	t.Run("no python3", func(t *testing.T) {
		fakePython(t, "ok", false)
		venv := filepath.Join(t.TempDir(), "state", "lab", "moto-venv")
		if Find(venv) != "" {
			t.Fatal("Find found a moto_server on an empty PATH")
		}
		_, err := Install(ctx, venv, logf)
		if err == nil || !strings.Contains(err.Error(), "moto_server is not on PATH and python3 is not either: install Python 3 and python3-venv") {
			t.Fatalf("got %v", err)
		}
		gone(t, venv)
	})

	t.Run("no venv module", func(t *testing.T) {
		log := fakePython(t, "novenv", true)
		venv := filepath.Join(t.TempDir(), "moto-venv")
		_, err := Install(ctx, venv, logf)
		if !errors.Is(err, ErrNoVenv) || !strings.Contains(err.Error(), "install the python3-venv package (Debian/Ubuntu: sudo apt-get install python3-venv)") {
			t.Fatalf("got %v", err)
		}
		if !strings.Contains(err.Error(), "python3 -m venv said: Failing command: ") {
			t.Errorf("python's own last line is not quoted: %v", err)
		}
		if c := calls(t, log); len(c) != 1 || !strings.HasSuffix(c[0], "-m venv "+venv) {
			t.Errorf("calls: %q", c)
		}
		gone(t, venv)
	})

	t.Run("pip fails", func(t *testing.T) {
		fakePython(t, "pipfail", true)
		venv := filepath.Join(t.TempDir(), "moto-venv")
		_, err := Install(ctx, venv, logf)
		want := "pip install 'moto[server]>=5,<6' failed (it needs PyPI): ERROR: No matching distribution found for moto[server]<6,>=5; install moto yourself"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v\nwant %q", err, want)
		}
		gone(t, venv)
	})

	t.Run("installs, then reuses", func(t *testing.T) {
		log := fakePython(t, "ok", true)
		venv := filepath.Join(t.TempDir(), "moto-venv")
		// A half-made venv from an earlier, interrupted attempt.
		if err := os.MkdirAll(filepath.Join(venv, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if Find(venv) != "" {
			t.Fatal("Find took a venv without moto_server")
		}
		var said []string
		bin, err := Install(ctx, venv, func(f string, a ...any) { said = append(said, f) })
		if err != nil {
			t.Fatal(err)
		}
		if bin != filepath.Join(venv, "bin", "moto_server") || len(said) != 2 {
			t.Errorf("bin %q, said %q", bin, said)
		}
		c := calls(t, log)
		if len(c) != 2 || !strings.HasSuffix(c[0], "-m venv "+venv) || !strings.HasSuffix(c[1], "-m pip install --disable-pip-version-check --quiet moto[server]>=5,<6") {
			t.Errorf("calls: %q", c)
		}
		if got := Find(venv); got != bin {
			t.Errorf("Find after Install: %q, want %q", got, bin)
		}
		if c := calls(t, log); len(c) != 2 {
			t.Errorf("Find ran python again: %q", c)
		}
	})
}
