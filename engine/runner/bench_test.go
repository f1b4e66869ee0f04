package runner

import (
	"context"
	"fmt"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

const benchSteps = 10_000

// benchPlaybook is benchSteps no-op steps: all independent (wide) or each
// needing the one before (chain).
func benchPlaybook(chain bool) *engine.Playbook {
	steps := make([]*engine.Step, benchSteps)
	for i := range steps {
		steps[i] = step(fmt.Sprintf("s%05d", i), "nop")
		if chain && i > 0 {
			steps[i].Needs = []string{steps[i-1].ID}
		}
	}
	pb := playbook(steps...)
	pb.Concurrency = 8
	return pb
}

// BenchmarkScheduler measures the engine's own cost per step (ns/step):
// scheduling, params, goroutine hand-off, and the fsync'd journal when on.
func BenchmarkScheduler(b *testing.B) {
	nop := &fnAction{spec: engine.ActionSpec{Name: "nop"}, run: func(context.Context, *engine.StepInput) (engine.Outputs, error) {
		return nil, nil
	}}
	reg := registry(nop)
	for _, shape := range []string{"wide", "chain"} {
		pb := benchPlaybook(shape == "chain")
		for _, journal := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/journal=%v", shape, journal), func(b *testing.B) {
				dir := b.TempDir()
				n := 0
				for b.Loop() {
					cfg := Config{Registry: reg, Playbook: pb}
					if journal {
						n++
						cfg.StateDir, cfg.RunID = dir, fmt.Sprintf("run-%d", n)
					}
					res, err := Run(context.Background(), cfg)
					if err != nil || res.Status != engine.RunSucceeded {
						b.Fatalf("run: %v, %v", res.Status, err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchSteps), "ns/step")
			})
		}
	}
}

// BenchmarkFsyncBaseline is one journal-sized append and fsync on the same
// kind of temp dir: the floor for a chain with a journal, which must sync
// once per step (a step's start is on disk before it runs). Compare
// chain/journal=true ns/step with this ns/op.
func BenchmarkFsyncBaseline(b *testing.B) {
	j, err := createJournal(b.TempDir(), "run-fsync")
	if err != nil {
		b.Fatal(err)
	}
	defer j.close()
	e := &entry{Kind: kindStep, Step: "s00042", Action: "nop", Status: "running", Attempt: 1}
	for b.Loop() {
		if err := j.add(e); err != nil {
			b.Fatal(err)
		}
		if err := j.flush(); err != nil {
			b.Fatal(err)
		}
	}
}
