package ec2

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// terminateAPI is what the terminate action needs from EC2; *ec2.Client has it.
type terminateAPI interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeInstanceAttribute(ctx context.Context, in *ec2.DescribeInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error)
	ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
	StopInstances(ctx context.Context, in *ec2.StopInstancesInput, opts ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, opts ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	DescribeInstanceTypes(ctx context.Context, in *ec2.DescribeInstanceTypesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error)
}

// terminate stops (the default) or terminates an instance that this case
// has isolated. It refuses an instance not tagged firebreak:case=<case>
// unless force is set, so a typo in a playbook cannot stop a healthy host.
// mode terminate also refuses, so that no evidence is destroyed, unless the
// instance is tagged firebreak:status=isolated (force overrides, recorded)
// and the case has a completed snapshot of every attached EBS volume; it
// sets DeleteOnTermination=false on every volume before terminating.
// Instance-store data is lost either way: the state artifact and the
// custody log say so. It is idempotent: an instance already in the wanted
// state is left alone.
type terminate struct {
	api  func(region string) terminateAPI
	poll time.Duration // first wait between state polls; zero means 5s
}

var _ engine.Action = (*terminate)(nil)

func registerTerminate(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&terminate{api: func(region string) terminateAPI { return c.EC2(region) }})
}

var terminateCalls = []string{"ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeInstanceTypes",
	"ec2:DescribeSnapshots", "ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:TerminateInstances"}

// terminateParams declare terminate's parameters.
type terminateParams struct {
	InstanceID  string        `param:"instance_id,required" doc:"the instance to stop or terminate"`
	Mode        string        `param:"mode" default:"stop" enum:"stop,terminate" doc:"stop keeps the disks and termination protection; terminate lifts the protection isolate set"`
	Force       bool          `param:"force" default:"false" doc:"act on an instance not tagged firebreak:case=<this case> (recorded)"`
	Region      string        `param:"region" default:"" doc:"the instance's region; empty: the run's default"`
	WaitTimeout time.Duration `param:"wait_timeout" default:"15m" doc:"how long to wait for stopped or terminated"`
}

func (*terminate) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "terminate",
		Summary: "Stop (default) or terminate an instance isolated in this case, recording its state before",
		Params:  engine.ParamsOf[terminateParams](),
		Outputs: []engine.Output{
			{Name: "previous_state", Type: engine.TypeString, Doc: "the instance state before"},
			{Name: "state", Type: engine.TypeString, Doc: "stopped or terminated", Headline: true},
			{Name: "protection_lifted", Type: engine.TypeBool, Doc: "true when termination protection was turned off"},
		},
		Calls:       terminateCalls,
		Permissions: awsperm.ForCalls(terminateCalls),
		Mutating:    true,
	}
}

func (a *terminate) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[terminateParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("terminate: %w", err)
	}
	id, mode := p.InstanceID, p.Mode
	if id == "" {
		return nil, fmt.Errorf("terminate: instance_id is empty: give the instance to %s", mode)
	}
	if p.WaitTimeout <= 0 {
		return nil, fmt.Errorf("terminate: wait_timeout %v is not positive: give a duration such as \"15m\"", p.WaitTimeout)
	}
	api := a.api(p.Region)
	inst, err := terminateDescribe(ctx, api, id)
	if err != nil {
		return nil, err
	}
	if err := a.checkCase(ctx, in, inst, mode, p.Force); err != nil {
		return nil, err
	}
	prev, want := instState(inst), types.InstanceStateNameStopped
	if mode == "terminate" {
		want = types.InstanceStateNameTerminated
	}
	if prev == want {
		return engine.Outputs{"previous_state": string(prev), "state": string(want), "protection_lifted": false}, nil
	}
	gone := prev == types.InstanceStateNameShuttingDown
	if mode == "terminate" && !gone {
		if err := checkTerminable(ctx, api, in, inst, p.Force); err != nil {
			return nil, err
		}
	}
	before, err := recordBefore(ctx, api, in, inst, mode)
	if err != nil {
		return nil, err
	}
	lifted := false
	if mode == "terminate" && !gone {
		if err := keepVolumes(ctx, api, in, inst); err != nil {
			return nil, err
		}
		if lifted, err = liftProtection(ctx, api, in, id, before); err != nil {
			return nil, err
		}
	}
	if err := a.changeState(ctx, api, in, id, prev, want); err != nil {
		return nil, err
	}
	if err := a.waitState(ctx, api, id, want, p.WaitTimeout); err != nil {
		return nil, err
	}
	return engine.Outputs{"previous_state": string(prev), "state": string(want), "protection_lifted": lifted}, nil
}

// checkCase refuses an instance this case has not claimed, unless forced.
func (a *terminate) checkCase(ctx context.Context, in *engine.StepInput, inst types.Instance, mode string, force bool) error {
	id := aws.ToString(inst.InstanceId)
	got := snapTag(inst.Tags, awsapi.TagCase)
	if in.CaseID != "" && got == in.CaseID {
		return nil
	}
	if !force {
		return fmt.Errorf("terminate: instance %q is not tagged firebreak:case=%q (it has %q): refusing to %s it; isolate it in this case first, or set force: true",
			id, in.CaseID, got, mode)
	}
	detail := map[string]any{"instance_id": id, "mode": mode, "case_tag": got, "reason": "force: true on an instance not tagged for this case"}
	if err := in.Evidence.Event(ctx, "forced", detail); err != nil {
		return fmt.Errorf("terminate: recording the override: %w", err)
	}
	return nil
}

func terminateDescribe(ctx context.Context, api terminateAPI, id string) (types.Instance, error) {
	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return types.Instance{}, fmt.Errorf("terminate: %w", err)
	}
	return *inst, nil
}

func instState(inst types.Instance) types.InstanceStateName {
	if inst.State == nil {
		return ""
	}
	return inst.State.Name
}

var _ engine.StepIAMer = (*terminate)(nil)

// StepIAM: a step whose mode is stop as written (or not written: stop is
// the default) never terminates, lifts protection or checks snapshots, so
// its policy has no ec2:TerminateInstances. A mode an expression decides
// keeps them.
func (*terminate) StepIAM(p engine.Params, _ engine.IAMEvidence) engine.StepIAM {
	if mode, written := p["mode"]; written && mode != "stop" {
		return engine.StepIAM{}
	}
	return engine.StepIAM{Drop: []string{"ec2:TerminateInstances", "ec2:ModifyInstanceAttribute", "ec2:DescribeSnapshots"}}
}
