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
		ev := enginetest.NewEvidence()
		ev.Discard = true // hashed and dropped, as a store would minus the disk
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
