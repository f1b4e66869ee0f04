package plan

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// noRun is an action whose Run fails the test: plan must never call it.
type noRun struct {
	t    *testing.T
	spec engine.ActionSpec
}

func (a *noRun) Spec() engine.ActionSpec { return a.spec }
func (a *noRun) Run(context.Context, *engine.StepInput) (engine.Outputs, error) {
	a.t.Errorf("plan called Run of %q; it must never run an action", a.spec.Name)
	return nil, errors.New("must not run")
}

// planner is a noRun action that also plans, recording what it was asked.
type planner struct {
	noRun
	mu     sync.Mutex
	got    []*engine.PlanInput
	answer func(in *engine.PlanInput) (*engine.PlanDetail, error)
}

func (p *planner) Plan(_ context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	p.mu.Lock()
	p.got = append(p.got, in)
	p.mu.Unlock()
	return p.answer(in)
}

func compileExpr(t *testing.T, src string, kind engine.ExprKind) *engine.Expr {
	t.Helper()
	e, err := engine.CompileExpr(src, kind)
	if err != nil {
		t.Fatalf("compiling %q: %v", src, err)
	}
	return e
}

func with(t *testing.T, kv map[string]any) map[string]engine.Value {
	t.Helper()
	out := map[string]engine.Value{}
	for k, v := range kv {
		c, err := engine.CompileValue(v)
		if err != nil {
			t.Fatalf("compiling %s: %v", k, err)
		}
		out[k] = c
	}
	return out
}

// hostCompromise is the README's host-compromise example, built by hand so these tests do not
// depend on the loader.
func hostCompromise(t *testing.T) (*engine.Registry, *engine.Playbook, *planner) {
	t.Helper()
	reg := engine.NewRegistry()
	meta := &planner{noRun: noRun{t: t, spec: engine.ActionSpec{
		Name: "collect-metadata", Calls: []string{"ec2:DescribeInstances"},
		Params: []engine.Param{{Name: "instance_id", Type: engine.TypeString, Required: true}},
	}}}
	meta.answer = func(in *engine.PlanInput) (*engine.PlanDetail, error) {
		return &engine.PlanDetail{Calls: []string{"ec2:DescribeInstances " + in.Params.String("instance_id")}}, nil
	}
	reg.Register(meta)
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "isolate", Mutating: true,
		Calls: []string{"ec2:ModifyNetworkInterfaceAttribute", "ec2:CreateSecurityGroup"}}})
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "capture-memory", Calls: []string{"ssh:exec"}}})
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "snapshot", Mutating: true, Calls: []string{"ec2:CreateSnapshots"}}})
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "terminate", Mutating: true, Calls: []string{"ec2:StopInstances"}}})
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "upload-log", Calls: []string{"s3:PutObject"}}})

	id := "${{ inputs.instance_id }}"
	pb := &engine.Playbook{
		Name: "host-compromise", Version: "1.2.0", SHA256: "0123456789abcdef0123",
		Inputs: []*engine.Input{{Name: "instance_id", Type: engine.TypeString}, {Name: "terminate", Type: engine.TypeBool}},
		Steps: []*engine.Step{
			{ID: "gather", Action: "collect-metadata", With: with(t, map[string]any{"instance_id": id})},
			{ID: "isolate", Action: "isolate", Needs: []string{"gather"}, With: with(t, map[string]any{"instance_id": id})},
			{ID: "memory", Action: "capture-memory", Needs: []string{"isolate"},
				When: compileExpr(t, `steps.gather.outputs.platform == "linux"`, engine.ExprBool),
				With: with(t, map[string]any{"host": "${{ steps.gather.outputs.private_ip }}"})},
			{ID: "disks", Action: "snapshot", Needs: []string{"isolate"}, With: with(t, map[string]any{"instance_id": id})},
			{ID: "stop", Action: "terminate", Needs: []string{"memory", "disks"},
				When: compileExpr(t, "inputs.terminate", engine.ExprBool)},
		},
		Finally: []*engine.Step{{ID: "log", Action: "upload-log", Finally: true}},
	}
	return reg, graphed(t, pb), meta
}

// graphed builds pb's graphs, as the loader does for the playbooks it
// loads; a test that changes the steps after calls it again.
func graphed(t testing.TB, pb *engine.Playbook) *engine.Playbook {
	t.Helper()
	if err := pb.BuildGraphs(); err != nil {
		t.Fatal(err)
	}
	return pb
}

var hostInputs = map[string]any{"instance_id": "i-0abc1234", "terminate": false}
