package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Binary is a Go program a test package builds once, on first use, and
// runs as a responder would: unit tests and fuzz workers that never run it
// do not pay for the build. Call Remove from TestMain.
type Binary struct {
	Pkg     string // package to build, relative to the test's dir ("." or "../../cmd/firebreak")
	LDFlags string // optional -ldflags

	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the program the first time and returns its path, or fails t.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "firebreak-bin-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, filepath.Base(b.absPkg()))
		args := []string{"build", "-o", b.path}
		if b.LDFlags != "" {
			args = append(args, "-ldflags", b.LDFlags)
		}
		if out, err := exec.Command("go", append(args, b.Pkg)...).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.Pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatalf("building %s: %v", b.Pkg, b.err)
	}
	return b.path
}

// Remove deletes what Path built.
func (b *Binary) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

func (b *Binary) absPkg() string {
	abs, err := filepath.Abs(b.Pkg)
	if err != nil {
		return "program"
	}
	return abs
}
