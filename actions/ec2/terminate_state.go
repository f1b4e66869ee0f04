package ec2

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// instanceBefore is the artifact terminate stores before it acts.
type instanceBefore struct {
	Mode                  string         `json:"mode"`
	Instance              types.Instance `json:"instance"`
	DisableApiTermination bool           `json:"disable_api_termination"`
	ShutdownBehavior      string         `json:"instance_initiated_shutdown_behavior"`
	InstanceStore         instanceStore  `json:"instance_store"`
}

// recordBefore stores the instance and the attributes terminate may change.
// The artifact's name carries the state, so a resumed run that finds the
// instance "stopping" adds a record instead of replacing the "running" one.
func recordBefore(ctx context.Context, api terminateAPI, in *engine.StepInput, inst types.Instance, mode string) (instanceBefore, error) {
	id := aws.ToString(inst.InstanceId)
	b := instanceBefore{Mode: mode, Instance: inst, InstanceStore: readInstanceStore(ctx, api, inst)}
	var err error
	if b.DisableApiTermination, b.ShutdownBehavior, err = readProtection(ctx, api, id); err != nil {
		return b, fmt.Errorf("terminate: %w", err)
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return b, fmt.Errorf("terminate: encoding the state of %q: %w", id, err)
	}
	meta := engine.ArtifactMeta{
		Name: fmt.Sprintf("%s-before-%s-%s.json", id, mode, instState(inst)), Kind: "instance-state",
		ContentType: "application/json", Source: map[string]string{"instance_id": id},
	}
	if _, err := in.Evidence.Put(ctx, meta, bytes.NewReader(data)); err != nil {
		return b, fmt.Errorf("terminate: storing the state of %q before acting: %w", id, err)
	}
	if b.InstanceStore.Present || !b.InstanceStore.Known {
		detail := map[string]any{"instance_id": id, "mode": mode, "instance_store": b.InstanceStore.Note}
		if err := in.Evidence.Event(ctx, "instance-store", detail); err != nil {
			return b, fmt.Errorf("terminate: recording the instance store: %w", err)
		}
	}
	return b, nil
}

// liftProtection turns off the termination protection isolate set, which
// TerminateInstances would otherwise refuse.
func liftProtection(ctx context.Context, api terminateAPI, in *engine.StepInput, id string, b instanceBefore) (bool, error) {
	if !b.DisableApiTermination {
		return false, nil
	}
	_, err := api.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId: aws.String(id), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(false)},
	})
	if err != nil {
		return false, fmt.Errorf("terminate: lifting termination protection of %q: %w", id, awsapi.Classify(err))
	}
	detail := map[string]any{"call": "ec2:ModifyInstanceAttribute", "instance_id": id, "disable_api_termination": false}
	if err := in.Evidence.Event(ctx, "aws-change", detail); err != nil {
		return true, fmt.Errorf("terminate: recording the change: %w", err)
	}
	return true, nil
}

// changeState asks for the wanted state unless the instance is on its way.
func (a *terminate) changeState(ctx context.Context, api terminateAPI, in *engine.StepInput, id string, prev, want types.InstanceStateName) error {
	gone := prev == types.InstanceStateNameTerminated || prev == types.InstanceStateNameShuttingDown
	var call string
	var err error
	switch {
	case want == types.InstanceStateNameStopped && gone:
		return fmt.Errorf("terminate: instance %q is %s: it cannot be stopped", id, prev)
	case want == types.InstanceStateNameStopped && prev == types.InstanceStateNameStopping, gone:
		return nil
	case want == types.InstanceStateNameStopped:
		call = "ec2:StopInstances"
		_, err = api.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	default:
		call = "ec2:TerminateInstances"
		_, err = api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	}
	if err != nil {
		return fmt.Errorf("terminate: %s of %q: %w", call, id, awsapi.Classify(err))
	}
	if err := in.Evidence.Event(ctx, "aws-change", map[string]any{"call": call, "instance_id": id, "previous_state": string(prev)}); err != nil {
		return fmt.Errorf("terminate: recording the change: %w", err)
	}
	return nil
}

// waitState polls until the instance is in want, bounded by timeout and ctx.
func (a *terminate) waitState(ctx context.Context, api terminateAPI, id string, want types.InstanceStateName, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := a.poll
	if delay <= 0 {
		delay = 5 * time.Second
	}
	for {
		inst, err := terminateDescribe(ctx, api, id)
		if err != nil && ctx.Err() == nil {
			return err
		}
		got := instState(inst)
		if err == nil && got == want {
			return nil
		}
		if want == types.InstanceStateNameStopped && (got == types.InstanceStateNameTerminated || got == types.InstanceStateNameShuttingDown) {
			return fmt.Errorf("terminate: instance %q went %s while stopping", id, got)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("terminate: instance %q is %s, not yet %s: rerun or resume the step to keep waiting: %w", id, got, want, context.Cause(ctx))
		case <-t.C:
		}
		delay = min(delay*2, 30*time.Second)
	}
}
