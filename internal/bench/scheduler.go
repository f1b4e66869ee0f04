package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

// nop is an action that does nothing: what is left is the engine's cost.
type nop struct{}

func (nop) Spec() engine.ActionSpec { return engine.ActionSpec{Name: "nop"} }
func (nop) Run(context.Context, *engine.StepInput) (engine.Outputs, error) {
	return nil, nil
}

// nopPlaybook is n no-op steps, each needing the one before (chain) or
// all independent.
func nopPlaybook(n int, chain bool) string {
	var b strings.Builder
	b.WriteString("name: bench\nconcurrency: 8\nsteps:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: s%05d\n    action: nop\n", i)
		if chain && i > 0 {
			fmt.Fprintf(&b, "    needs: [s%05d]\n", i-1)
		}
	}
	return b.String()
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
	var rows []Row
	for _, shape := range []struct {
		name    string
		chain   bool
		journal bool
	}{{"chain", true, true}, {"wide", false, true}, {"wide", false, false}} {
		pb, err := (&loader.Loader{Registry: reg}).LoadBytes("bench.yaml", []byte(nopPlaybook(o.Steps, shape.chain)))
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "firebreak-bench-")
		if err != nil {
			return nil, err
		}
		cfg := runner.Config{Registry: reg, Playbook: pb}
		if shape.journal {
			cfg.StateDir, cfg.RunID = dir, runner.NewRunID(time.Now())
		}
		start := time.Now()
		res, err := runner.Run(ctx, cfg)
		per := float64(time.Since(start).Nanoseconds()) / float64(o.Steps)
		os.RemoveAll(dir)
		if err != nil || res.Status != engine.RunSucceeded {
			return nil, fmt.Errorf("%d no-op steps: %v %w", o.Steps, res.Status, err)
		}
		rows = append(rows, row(fmt.Sprintf("scheduler/%s/journal=%v", shape.name, shape.journal), per/1000, "µs/step",
			bare/1000, "bare loop", fmt.Sprintf("%d no-op steps", o.Steps)))
	}
	return rows, nil
}
