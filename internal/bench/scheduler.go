package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
)

// nop is an action that does nothing: what is left is the engine's cost.
type nop struct{}

func (nop) Spec() engine.ActionSpec { return engine.ActionSpec{Name: "nop"} }
func (nop) Run(context.Context, *engine.StepInput) (engine.Outputs, error) {
	return nil, nil
}

// nopPlaybook is n no-op steps, each needing the one before (chain) or
// all independent. It is built, not loaded: the loader refuses playbooks
// past 2,000 steps, and the benchmark measures the runner, not the loader.
func nopPlaybook(n int, chain bool) *engine.Playbook {
	pb := &engine.Playbook{Name: "bench", Concurrency: 8, Source: "bench", SHA256: "bench"}
	for i := range n {
		st := &engine.Step{ID: fmt.Sprintf("s%05d", i), Action: "nop"}
		if chain && i > 0 {
			st.Needs = []string{pb.Steps[i-1].ID}
		}
		pb.Steps = append(pb.Steps, st)
	}
	if err := pb.BuildGraphs(); err != nil {
		panic(err) // a chain or independent steps: always a graph
	}
	return pb
}

// scheduler is the engine's cost per step, with its journal, against a
// bare loop calling the same no-op action as many times.
func scheduler(ctx context.Context, o Options) ([]Row, error) {
	reg := engine.NewRegistry()
	reg.Register(nop{})
	var act engine.Action = nop{}
	start := time.Now()
	for range o.Steps {
		if _, err := act.Run(ctx, &engine.StepInput{StepID: "s"}); err != nil {
			return nil, err
		}
	}
	bare := float64(time.Since(start).Nanoseconds()) / float64(o.Steps)
	sync, err := fsyncCost(1000)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, shape := range []struct {
		name    string
		chain   bool
		journal bool
	}{{"chain", true, true}, {"wide", false, true}, {"wide", false, false}} {
		pb := nopPlaybook(o.Steps, shape.chain)
		dir, err := os.MkdirTemp("", "firebreak-bench-")
		if err != nil {
			return nil, err
		}
		// The backend alone, with no case: the scheduler's cost per step,
		// not a whole run's (opening and sealing a case is not per step).
		be := &session.Local{Registry: reg}
		if shape.journal {
			be.StateDir = dir
		}
		start := time.Now()
		res, err := be.Run(ctx, &session.Job{RunID: runner.NewRunID(time.Now())}, pb, session.Hooks{})
		per := float64(time.Since(start).Nanoseconds()) / float64(o.Steps)
		os.RemoveAll(dir)
		if err != nil || res.Status != engine.RunSucceeded {
			return nil, fmt.Errorf("%d no-op steps: %v %w", o.Steps, res.Status, err)
		}
		rows = append(rows, row(fmt.Sprintf("scheduler/%s/journal=%v", shape.name, shape.journal), per/1000, "µs/step",
			bare/1000, "bare loop", fmt.Sprintf("%d no-op steps", o.Steps)))
	}
	rows = append(rows, row("scheduler/chain/journal=true-vs-fsync", rows[0].Value, "µs/step", sync/1000, "fsync of a journal line",
		"a chain syncs each step's start before it runs"))
	return rows, nil
}

// fsyncCost is the mean ns of appending a journal-sized line to a file in
// the temp dir and syncing it, n times.
func fsyncCost(n int) (float64, error) {
	f, err := os.CreateTemp("", "firebreak-bench-fsync-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	line := []byte(`{"kind":"step","step":"s00042","action":"nop","status":"running","attempt":1,"time":"2026-11-29T12:00:00Z"}` + "\n")
	start := time.Now()
	for range n {
		if _, err := f.Write(line); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n), nil
}
