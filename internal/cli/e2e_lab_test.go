package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestBenchOnlyRejectsUnknownName: a typo in --only is a usage error that
// names the benchmarks there are, not an empty table.
func TestBenchOnlyRejectsUnknownName(t *testing.T) {
	s := newSandbox(t)
	s.bin = labBin.Path(t)
	r := s.run("bench", "--only", "schedular").want(t, 2)
	want := "firebreak: --only: unknown benchmark \"schedular\": want one of scheduler, memory, host, fleet\n"
	if r.stderr != want || r.stdout != "" {
		t.Fatalf("got stderr %q, stdout %q; want stderr %q alone", r.stderr, r.stdout, want)
	}
	if entries, _ := os.ReadDir(s.dir); len(entries) != 0 {
		t.Errorf("a refused bench left %d file(s) in the working dir", len(entries))
	}
}

// labWithFakePython is a sandbox running firebreak-lab with a PATH that
// holds testdata/fake-python3 as python3 and nothing else (no
// moto_server), in mode; it returns the fake's call log.
func labWithFakePython(t *testing.T, mode string) (*sandbox, string) {
	t.Helper()
	s := newSandbox(t)
	s.bin = labBin.Path(t)
	bin := filepath.Join(s.dir, "fake-bin")
	data, err := os.ReadFile(filepath.Join("testdata", "fake-python3"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(bin, "python3"), data)
	if err := os.Chmod(filepath.Join(bin, "python3"), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(s.dir, "python-calls")
	for i, e := range s.env {
		if strings.HasPrefix(e, "PATH=") {
			s.env[i] = "PATH=" + bin
		}
	}
	s.env = append(s.env, "FAKE_PYTHON_MODE="+mode, "FAKE_PYTHON_LOG="+log)
	return s, log
}

// TestDemoInstallsMoto: with no moto_server on PATH the demo installs moto
// into a virtualenv under the state dir and runs on it; without
// python3-venv, or when pip fails, it says what to install, exits 2 and
// leaves no half-made virtualenv. python3 is a fake (testdata/fake-python3):
// the real `pip install` needs PyPI, which the tests never reach, so here
// pip "installs" a moto_server that runs the real one.
func TestDemoInstallsMoto(t *testing.T) {
	venvOf := func(s *sandbox) string { return filepath.Join(s.state, "lab", "moto-venv") }
	t.Run("no python3-venv", func(t *testing.T) {
		s, _ := labWithFakePython(t, "novenv")
		r := s.run("demo").want(t, 2)
		contains(t, "demo", r.stderr, "moto_server is not on PATH: installing moto into a virtualenv at "+venvOf(s),
			"firebreak: the demo needs moto_server: python3 cannot make a virtualenv: install the python3-venv package (Debian/Ubuntu: sudo apt-get install python3-venv), then run the demo again")
		if _, err := os.Stat(venvOf(s)); !os.IsNotExist(err) {
			t.Errorf("a half-made virtualenv is left: %v", err)
		}
	})
	t.Run("pip fails", func(t *testing.T) {
		s, _ := labWithFakePython(t, "pipfail")
		r := s.run("demo").want(t, 2)
		contains(t, "demo", r.stderr, "pip install 'moto[server]>=5,<6' failed (it needs PyPI): ERROR: No matching distribution found for moto[server]<6,>=5")
		if _, err := os.Stat(venvOf(s)); !os.IsNotExist(err) {
			t.Errorf("a half-made virtualenv is left: %v", err)
		}
	})
	t.Run("installs and runs", func(t *testing.T) {
		real := testenv.LookPath(t, "moto_server")
		s, log := labWithFakePython(t, "ok")
		s.env = append(s.env, "FAKE_MOTO_SERVER="+real, "FAKE_MOTO_PATH="+os.Getenv("PATH")) // the real one may be a pyenv shim
		r := s.run("demo", "--evidence", filepath.Join(s.dir, "ev")).want(t, 0)
		contains(t, "demo", r.stderr, "installing moto into a virtualenv at "+venvOf(s), "moto installed: "+filepath.Join(venvOf(s), "bin", "moto_server"),
			"starting moto_server on loopback ("+filepath.Join(venvOf(s), "bin", "moto_server")+")", ": succeeded")
		contains(t, "demo verify", r.stdout, "OK: every artifact, the custody chain and the signature match")
		data, _ := os.ReadFile(log)
		if n := strings.Count(string(data), "\n"); n != 2 {
			t.Errorf("python3 calls: want venv then pip, got %d:\n%s", n, data)
		}
	})
}
