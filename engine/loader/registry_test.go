package loader

import (
	"context"

	"github.com/firebreak-ir/firebreak/engine"
)

// fakeAction is an action known only by its spec: the loader never runs one.
type fakeAction struct{ spec engine.ActionSpec }

func (f fakeAction) Spec() engine.ActionSpec { return f.spec }
func (f fakeAction) Run(context.Context, *engine.StepInput) (engine.Outputs, error) {
	return nil, nil
}

// testRegistry holds a few actions shaped like the real ones, with typed
// parameters, without importing any AWS code.
func testRegistry() *engine.Registry {
	r := engine.NewRegistry()
	for _, s := range []engine.ActionSpec{
		{Name: "collect-metadata", Params: []engine.Param{
			{Name: "instance_id", Type: engine.TypeString, Required: true},
			{Name: "screenshot", Type: engine.TypeBool, Default: true},
		}, Outputs: []engine.Output{
			{Name: "platform", Type: engine.TypeString}, {Name: "private_ip", Type: engine.TypeString},
			{Name: "console_output", Type: engine.TypeString}, {Name: "volume_ids", Type: engine.TypeList},
			{Name: "instance_id", Type: engine.TypeString},
		}},
		{Name: "isolate", Params: []engine.Param{
			{Name: "instance_id", Type: engine.TypeString, Required: true},
			{Name: "allow_ssh_from", Type: engine.TypeString},
			{Name: "nacl", Type: engine.TypeBool, Default: false},
		}},
		{Name: "snapshot", Params: []engine.Param{
			{Name: "instance_id", Type: engine.TypeString, Required: true},
			{Name: "volume_ids", Type: engine.TypeList},
			{Name: "tags", Type: engine.TypeMap},
		}},
		{Name: "capture-memory", Params: []engine.Param{
			{Name: "host", Type: engine.TypeString, Required: true},
			{Name: "port", Type: engine.TypeInt, Default: 22},
			{Name: "method", Type: engine.TypeString, Default: "lime", Enum: []string{"lime", "avml", "raw"}},
			{Name: "console_output", Type: engine.TypeString},
			{Name: "module_dir", Type: engine.TypeString},
			{Name: "stall_timeout", Type: engine.TypeDuration, Default: "60s"},
		}},
		{Name: "terminate", Params: []engine.Param{
			{Name: "instance_id", Type: engine.TypeString, Required: true},
			{Name: "mode", Type: engine.TypeString, Default: "stop", Enum: []string{"stop", "terminate"}},
		}},
		{Name: "upload-log"},
		{Name: "notify", Params: []engine.Param{{Name: "message", Type: engine.TypeString, Required: true}}},
	} {
		r.Register(fakeAction{spec: s})
	}
	return r
}
