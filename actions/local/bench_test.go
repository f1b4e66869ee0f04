package local

import (
	"context"
	"crypto/sha256"
	"io"
	"os/exec"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
)

// The benchmarks come in pairs, the command action against the bare
// os/exec doing the same work, so that what matters is their ratio: the
// cost of the process group, the pipes, hashing and the evidence hand-off.

func BenchmarkCommandTrue(b *testing.B) {
	for b.Loop() {
		if _, err := (&command{}).Run(context.Background(), &engine.StepInput{Attempt: 1, Params: engine.Params{"argv": argv("true")}, Evidence: enginetest.NewEvidence()}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExecTrue(b *testing.B) {
	for b.Loop() {
		if err := exec.Command("true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

const streamScript = "head -c 67108864 /dev/zero"

func BenchmarkCommandStream64MiB(b *testing.B) {
	b.SetBytes(64 << 20)
	for b.Loop() {
		ev := &discardEvidence{}
		if _, err := (&command{}).Run(context.Background(), &engine.StepInput{Attempt: 1, Params: engine.Params{"argv": argv("sh", "-c", streamScript)}, Evidence: ev}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExecStream64MiB(b *testing.B) {
	b.SetBytes(64 << 20)
	for b.Loop() {
		cmd := exec.Command("sh", "-c", streamScript)
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		h := sha256.New() // the store hashes too: same work
		if _, err := io.Copy(h, out); err != nil {
			b.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}

// discardEvidence hashes and drops what it is given, as a store would
// minus the disk.
type discardEvidence struct{}

func (d *discardEvidence) Put(_ context.Context, meta engine.ArtifactMeta, r io.Reader) (engine.Artifact, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return engine.Artifact{ID: meta.Name, Size: n}, err
}

func (d *discardEvidence) Event(context.Context, string, map[string]any) error { return nil }
func (d *discardEvidence) Record(context.Context, engine.Artifact) error       { return nil }
