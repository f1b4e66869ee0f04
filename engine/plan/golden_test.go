package plan

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenRegistry holds actions shaped like the real ones, all refusing Run.
func goldenRegistry(t *testing.T) *engine.Registry {
	reg := engine.NewRegistry()
	id := []engine.Param{{Name: "instance_id", Type: engine.TypeString, Required: true}}
	desc := &planner{noRun: noRun{t: t, spec: engine.ActionSpec{Name: "describe", Params: id, Calls: []string{"ec2:DescribeInstances"}}}}
	desc.answer = func(in *engine.PlanInput) (*engine.PlanDetail, error) {
		return &engine.PlanDetail{Calls: []string{"ec2:DescribeInstances " + in.Params.String("instance_id")}}, nil
	}
	capture := &planner{noRun: noRun{t: t, spec: engine.ActionSpec{Name: "capture", Params: []engine.Param{
		{Name: "host", Type: engine.TypeString, Required: true}, {Name: "port", Type: engine.TypeInt, Default: 22}}}}}
	capture.answer = func(in *engine.PlanInput) (*engine.PlanDetail, error) {
		return &engine.PlanDetail{Calls: []string{"ssh " + engine.Format(in.Params["host"]) + ":" + engine.Format(in.Params["port"])}}, nil
	}
	reg.Register(desc)
	reg.Register(capture)
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "isolate", Params: id, Mutating: true,
		Calls: []string{"ec2:CreateSecurityGroup", "ec2:ModifyNetworkInterfaceAttribute"}}})
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "snapshot", Params: id, Mutating: true, Calls: []string{"ec2:CreateSnapshots"}}})
	reg.Register(&noRun{t: t, spec: engine.ActionSpec{Name: "terminate", Params: id, Mutating: true, Calls: []string{"ec2:StopInstances"}}})
	return reg
}

func TestGolden(t *testing.T) {
	reg := goldenRegistry(t)
	pb, err := (&loader.Loader{Registry: reg}).LoadFile("testdata/triage.yaml")
	if err != nil {
		t.Fatalf("loading the test playbook: %v", err)
	}
	p, err := Build(context.Background(), reg, pb, map[string]any{
		"instance_id": "i-0123456789abcdef0", "hosts": []any{"10.0.0.1", "10.0.0.2"}, "terminate": false}, false)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	renderers := map[string]func(*bytes.Buffer) error{
		"txt":     func(b *bytes.Buffer) error { return p.Text(b) },
		"json":    func(b *bytes.Buffer) error { return p.JSON(b) },
		"dot":     func(b *bytes.Buffer) error { return p.Dot(b) },
		"mermaid": func(b *bytes.Buffer) error { return p.Mermaid(b) },
	}
	for ext, render := range renderers {
		t.Run(ext, func(t *testing.T) {
			var got bytes.Buffer
			if err := render(&got); err != nil {
				t.Fatalf("render: %v", err)
			}
			path := filepath.Join("testdata", "triage.plan."+ext)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from the golden file; run with -update if the change is meant\ngot:\n%s\nwant:\n%s", path, got.Bytes(), want)
			}
		})
	}
}
