package e2e

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

const hostPlaybook = `name: host
version: 1.0.0
inputs:
  instance_id: {type: string, required: true}
  hosts: {type: list, default: []}
  terminate: {type: bool, default: false}
defaults: {retries: 2}
concurrency: 4
steps:
  - id: gather
    action: probe
    with: {target: "${{ inputs.instance_id }}"}
  - id: isolate
    action: probe
    needs: [gather]
    with: {target: "${{ steps.gather.outputs.target }}-isolated", n: "${{ len(inputs.hosts) }}"}
  - id: memory
    action: probe
    needs: [isolate]
    for_each: inputs.hosts
    concurrency: 2
    with: {target: "${{ item }}#${{ index }}"}
  - id: stop
    action: probe
    needs: [memory]
    when: inputs.terminate
    with: {target: "${{ inputs.instance_id }}"}
finally:
  - id: report
    action: probe
    with: {target: "memory=${{ steps.memory.status }} stop=${{ steps.stop.status }}"}
`

// probe echoes its target; a target of "i-fail" fails, retryably.
type probe struct {
	mu   sync.Mutex
	seen []string
}

func (p *probe) Spec() engine.ActionSpec {
	return engine.ActionSpec{Name: "probe", Params: []engine.Param{
		{Name: "target", Type: engine.TypeString, Required: true},
		{Name: "n", Type: engine.TypeInt, Default: 0},
	}}
}

func (p *probe) Run(_ context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p.mu.Lock()
	p.seen = append(p.seen, in.StepID+":"+in.Params.String("target"))
	p.mu.Unlock()
	if strings.HasPrefix(in.Params.String("target"), "i-fail") {
		return nil, engine.Retryable(errors.New("throttled"))
	}
	return engine.Outputs{"target": in.Params.String("target"), "n": in.Params.Int("n")}, nil
}

func TestLoadedPlaybook(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		inputs   map[string]any
		want     map[string]string
		wantSeen []string // in any order
		status   engine.RunStatus
	}{
		{"fan-out, no stop", map[string]any{"instance_id": "i-0abc", "hosts": "10.0.0.1,10.0.0.2,10.0.0.3"},
			map[string]string{"gather": "succeeded", "isolate": "succeeded", "memory": "succeeded", "stop": "skipped", "report": "succeeded"},
			[]string{"gather:i-0abc", "isolate:i-0abc-isolated", "memory:10.0.0.1#0", "memory:10.0.0.2#1", "memory:10.0.0.3#2",
				"report:memory=succeeded stop=skipped"}, engine.RunSucceeded},
		{"failure skips the chain, finally still runs", map[string]any{"instance_id": "i-fail", "terminate": "true"},
			map[string]string{"gather": "failed", "isolate": "skipped", "memory": "skipped", "stop": "skipped", "report": "succeeded"},
			[]string{"gather:i-fail", "gather:i-fail", "gather:i-fail", "report:memory=skipped stop=skipped"}, engine.RunFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &probe{}
			reg := engine.NewRegistry()
			reg.Register(p)
			pb, err := (&loader.Loader{Registry: reg}).LoadBytes("host.yaml", []byte(hostPlaybook))
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			inputs, err := loader.ResolveInputs(pb, tt.inputs, &engine.Env{})
			if err != nil {
				t.Fatalf("inputs: %v", err)
			}
			res, err := runner.Run(context.Background(), runner.Config{Registry: reg, Playbook: pb, Inputs: inputs,
				StateDir: t.TempDir(), RunID: "run-e2e",
				Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			got := map[string]string{}
			for _, s := range res.Steps {
				got[s.ID] = string(s.Status)
			}
			for id, w := range tt.want {
				if got[id] != w {
					t.Errorf("%s = %s, want %s", id, got[id], w)
				}
			}
			if res.Status != tt.status {
				t.Errorf("run = %s, want %s", res.Status, tt.status)
			}
			if !sameSet(p.seen, tt.wantSeen) {
				t.Errorf("action saw %v\nwant (any order) %v", p.seen, tt.wantSeen)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}
