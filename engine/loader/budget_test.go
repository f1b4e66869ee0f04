package loader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// aliasBomb is YAML holding a scalar of size bytes under an anchor and
// then n aliases of it, in a list under key: a few kilobytes of file
// beyond the scalar, size*n bytes once expanded.
func aliasBomb(key string, size, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "big: &big %s\n%s:\n", strings.Repeat("a", size), key)
	for range n {
		b.WriteString("  - *big\n")
	}
	return b.String()
}

// TestAliasesOfLargeScalarsAreRefused: a 1 MB string aliased 5,000 times
// in a playbook, or 200 times in an inputs file, is a small file that
// expands to gigabytes or hundreds of megabytes; both are refused at load
// with the place of the alias that went past the budget.
func TestAliasesOfLargeScalarsAreRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var pb strings.Builder
	fmt.Fprintf(&pb, "name: bomb\nversion: 1.0.0\nincident: test\ndescription: &big %s\nsteps:\n  - id: a\n    action: noop\n    with:\n      data:\n", strings.Repeat("a", 1<<20))
	for range 5000 {
		pb.WriteString("        - *big\n")
	}
	pbPath := filepath.Join(dir, "bomb.yaml")
	if err := os.WriteFile(pbPath, []byte(pb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := (&Loader{}).LoadFile(pbPath)
	if err == nil || !strings.Contains(err.Error(), "expands to more than") || !strings.Contains(err.Error(), "bomb.yaml:") {
		t.Fatalf("LoadFile: %v, want the expansion refused at a place in bomb.yaml", err)
	}

	in := filepath.Join(dir, "inputs.yaml")
	if err := os.WriteFile(in, []byte(aliasBomb("data", 1<<20, 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = ReadInputsFile(in)
	if !errors.Is(err, engine.ErrInvalidInput) || !strings.Contains(err.Error(), "the inputs file expands to more than") ||
		!strings.Contains(err.Error(), "inputs.yaml:3:5") {
		t.Fatalf("ReadInputsFile: %v, want the first alias (line 3) refused", err)
	}
	// The same data once, unaliased and small enough, is read.
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte(aliasBomb("data", 100, 20)), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadInputsFile(small); err != nil || len(got["data"].([]any)) != 20 {
		t.Fatalf("ReadInputsFile of 20 small aliases: %v %v", got, err)
	}
}

// TestInputsHaveAByteLimit: inputs are written whole into the journal,
// the custody log and the manifest, so together they are bounded.
func TestInputsHaveAByteLimit(t *testing.T) {
	t.Parallel()
	pb := &engine.Playbook{Inputs: []*engine.Input{{Name: "blob", Type: engine.TypeString}}}
	_, err := ResolveInputs(pb, map[string]any{"blob": strings.Repeat("x", MaxInputsBytes)}, nil)
	if !errors.Is(err, engine.ErrInvalidInput) || !strings.Contains(err.Error(), "more than 1048576") {
		t.Fatalf("ResolveInputs of a 1 MiB input: %v, want the byte limit", err)
	}
	if _, err := ResolveInputs(pb, map[string]any{"blob": strings.Repeat("x", 1000)}, nil); err != nil {
		t.Fatalf("ResolveInputs of a small input: %v", err)
	}
}
