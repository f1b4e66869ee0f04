package engine_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEngineImportsNoTransport keeps the engine free of AWS, SSH and CLI
// code: those belong to actions/ and cmd/, and an engine that imported them
// could no longer be tested, embedded or reasoned about on its own.
func TestEngineImportsNoTransport(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	// -e: a sibling package mid-edit must not hide what the others import.
	out, err := exec.Command(gobin, "list", "-e", "-deps", "github.com/firebreak-ir/firebreak/engine/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./engine/...: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/aws/aws-sdk-go-v2",
		"golang.org/x/crypto/ssh",
		"github.com/urfave/cli",
		"go.temporal.io", // the Temporal backend lives in internal/temporalrun
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps printed nothing; want the engine's dependencies")
	}
	for _, dep := range deps {
		for _, bad := range forbidden {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("engine depends on %s; engine must import no AWS, SSH or CLI package", dep)
			}
		}
	}
}
