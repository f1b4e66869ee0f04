package playbooks_test

import (
	"context"
	"errors"
	"io/fs"
	"sync"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/playbooks"
)

// scripted stands in for a real action with the real action's spec, so the
// playbook is validated and its parameters coerced exactly as in a real run,
// while the test decides what each action answers. It proves the playbook's
// ordering logic; the actions themselves are proven against moto elsewhere.
type scripted struct {
	spec engine.ActionSpec
	fail bool
	mu   *sync.Mutex
	ran  *[]string
}

func (s scripted) Spec() engine.ActionSpec { return s.spec }

func (s scripted) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	s.mu.Lock()
	*s.ran = append(*s.ran, in.StepID)
	s.mu.Unlock()
	if s.fail {
		return nil, errors.New("scripted failure")
	}
	return engine.Outputs{"platform": "linux", "private_ip": "10.0.0.5"}, nil
}

// runHostCompromise runs the built-in host-compromise with every action
// scripted, those named in failing failing, and returns the steps that ran
// and each step's status.
func runHostCompromise(t *testing.T, failing map[string]bool, inputs map[string]any) ([]string, map[string]engine.StepStatus) {
	t.Helper()
	real := registry()
	reg := engine.NewRegistry()
	var mu sync.Mutex
	var ran []string
	for _, name := range real.Names() {
		a, _ := real.Lookup(name)
		reg.Register(scripted{spec: a.Spec(), fail: failing[name], mu: &mu, ran: &ran})
	}
	data, err := fs.ReadFile(playbooks.FS, "host-compromise.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := (&loader.Loader{Registry: reg}).LoadBytes("host-compromise.yaml", data)
	if err != nil {
		t.Fatalf("loading host-compromise:\n%v", err)
	}
	resolved, err := loader.ResolveInputs(pb, inputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := runner.Run(context.Background(), runner.Config{Registry: reg, Playbook: pb, Inputs: resolved, RunID: "run-test", CaseID: "cr-test"})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	status := map[string]engine.StepStatus{}
	for _, s := range res.Steps {
		status[s.ID] = s.Status
	}
	return ran, status
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestHostCompromiseContainsEvenWhenCollectionFails: a responder's first
// need is containment. A failed metadata collection must not keep the host
// connected (isolate records its own pre-change state first), but it must
// keep the host from being stopped, since the evidence is incomplete.
func TestHostCompromiseContainsEvenWhenCollectionFails(t *testing.T) {
	tests := []struct {
		name     string
		failing  map[string]bool
		wantRan  []string
		wantNot  []string
		wantStop engine.StepStatus
	}{
		{"all evidence preserved: stop runs", nil,
			[]string{"gather", "isolate", "disks", "stop", "log"}, nil, engine.StatusSucceeded},
		{"collection failed: still isolated and snapshotted, never stopped", map[string]bool{"collect-metadata": true},
			[]string{"gather", "isolate", "disks", "log"}, []string{"stop"}, engine.StatusSkipped},
		{"snapshot failed: never stopped", map[string]bool{"snapshot": true},
			[]string{"gather", "isolate", "disks", "log"}, []string{"stop"}, engine.StatusSkipped},
		{"isolation failed: no snapshot after it, never stopped", map[string]bool{"isolate": true},
			[]string{"gather", "isolate", "log"}, []string{"disks", "stop"}, engine.StatusSkipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran, status := runHostCompromise(t, tt.failing, map[string]any{"instance_id": "i-0123456789abcdef0", "terminate": true})
			for _, id := range tt.wantRan {
				if !contains(ran, id) {
					t.Errorf("step %q did not run; ran %v", id, ran)
				}
			}
			for _, id := range tt.wantNot {
				if contains(ran, id) {
					t.Errorf("step %q ran; want it skipped (ran %v)", id, ran)
				}
			}
			if got := status["stop"]; got != tt.wantStop {
				t.Errorf("stop: got %s, want %s", got, tt.wantStop)
			}
		})
	}
}
