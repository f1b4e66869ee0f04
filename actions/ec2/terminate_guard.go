package ec2

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// checkTerminable refuses mode terminate until the evidence is safe: the
// instance isolated (firebreak:status=isolated, unless force, recorded) and
// a completed snapshot, tagged with the case, of every attached EBS volume.
// It changes nothing; keepVolumes does the DeleteOnTermination part.
func checkTerminable(ctx context.Context, api terminateAPI, in *engine.StepInput, inst types.Instance, force bool) error {
	id := aws.ToString(inst.InstanceId)
	if got := snapTag(inst.Tags, awsapi.TagStatus); got != "isolated" {
		if !force {
			return fmt.Errorf("terminate: instance %q is tagged firebreak:status=%q, not \"isolated\": refusing to terminate it; isolate it first, or set force: true",
				id, got)
		}
		detail := map[string]any{"instance_id": id, "mode": "terminate", "status_tag": got, "reason": "force: true on an instance not tagged firebreak:status=isolated"}
		if err := in.Evidence.Event(ctx, "forced", detail); err != nil {
			return fmt.Errorf("terminate: recording the override: %w", err)
		}
	}
	volumes := ebsVolumes(inst)
	if len(volumes) == 0 {
		return nil
	}
	done, err := completedCaseSnapshots(ctx, api, in.CaseID, volumes)
	if err != nil {
		return err
	}
	var missing []string
	for _, v := range volumes {
		if done[v] == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("terminate: no completed snapshot tagged firebreak:case=%q of volume(s) %s of instance %q: refusing to terminate it; run the snapshot action first",
			in.CaseID, strings.Join(missing, ", "), id)
	}
	return nil
}

// completedCaseSnapshots returns volume id -> a completed snapshot of it
// tagged with the case.
func completedCaseSnapshots(ctx context.Context, api terminateAPI, caseID string, volumes []string) (map[string]string, error) {
	p := ec2.NewDescribeSnapshotsPaginator(api, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters: []types.Filter{
			{Name: aws.String("tag:" + awsapi.TagCase), Values: []string{caseID}},
			{Name: aws.String("volume-id"), Values: volumes},
		},
	})
	done := map[string]string{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("terminate: looking for case %q snapshots: %w", caseID, awsapi.Classify(err))
		}
		for _, s := range page.Snapshots {
			if s.State == types.SnapshotStateCompleted {
				done[aws.ToString(s.VolumeId)] = aws.ToString(s.SnapshotId)
			}
		}
	}
	return done, nil
}

// keepVolumes sets DeleteOnTermination=false on every EBS volume that has
// it true, so TerminateInstances leaves the disks, and records the change.
func keepVolumes(ctx context.Context, api terminateAPI, in *engine.StepInput, inst types.Instance) error {
	id := aws.ToString(inst.InstanceId)
	var maps []types.InstanceBlockDeviceMappingSpecification
	var kept []string
	for _, b := range inst.BlockDeviceMappings {
		if b.Ebs == nil || !aws.ToBool(b.Ebs.DeleteOnTermination) {
			continue
		}
		maps = append(maps, types.InstanceBlockDeviceMappingSpecification{
			DeviceName: b.DeviceName, Ebs: &types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(false)},
		})
		kept = append(kept, aws.ToString(b.Ebs.VolumeId))
	}
	if len(maps) == 0 {
		return nil
	}
	if _, err := api.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), BlockDeviceMappings: maps}); err != nil {
		return fmt.Errorf("terminate: setting DeleteOnTermination=false on %s of %q: %w", strings.Join(kept, ", "), id, awsapi.Classify(err))
	}
	detail := map[string]any{"call": "ec2:ModifyInstanceAttribute", "instance_id": id, "delete_on_termination": false, "volumes": kept}
	if err := in.Evidence.Event(ctx, "aws-change", detail); err != nil {
		return fmt.Errorf("terminate: recording the change: %w", err)
	}
	return nil
}
