package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Tags on the evidence volumes create-workstation makes.
const (
	roleWorkstationEvidence = "workstation-evidence"
	wsTagSnapshot           = "firebreak:source-snapshot"
)

// workstationDevices are the device names evidence volumes get, in
// snapshot order; the root device stays as the image has it.
var workstationDevices = []string{"/dev/sdf", "/dev/sdg", "/dev/sdh", "/dev/sdi", "/dev/sdj", "/dev/sdk", "/dev/sdl", "/dev/sdm", "/dev/sdn", "/dev/sdo", "/dev/sdp"}

// volumes makes a volume from each snapshot in the workstation's zone (or
// finds the one made before) and attaches it. EBS cannot attach a volume
// read-only: the examiner mounts them read-only (mount -o ro,noload).
func (x *wsRun) volumes(ctx context.Context, snaps []types.Snapshot, h host, az string) ([]string, map[string]any, error) {
	have, err := x.evidenceVolumes(ctx)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(snaps))
	devices := map[string]any{}
	for i, s := range snaps {
		snap := aws.ToString(s.SnapshotId)
		v, ok := have[snap]
		if !ok {
			if v, err = x.createVolume(ctx, s, az); err != nil {
				return nil, nil, err
			}
		}
		id := aws.ToString(v.VolumeId)
		if got := aws.ToString(v.AvailabilityZone); got != az {
			return nil, nil, fmt.Errorf("volume %q (from %q) is in %q and the workstation in %q: delete the volume and run again", id, snap, got, az)
		}
		dev, err := x.attach(ctx, v, h.id, workstationDevices[i])
		if err != nil {
			return nil, nil, err
		}
		ids, devices[id] = append(ids, id), dev
	}
	return ids, devices, nil
}

// evidenceVolumes returns the case's evidence volumes by source snapshot.
func (x *wsRun) evidenceVolumes(ctx context.Context) (map[string]types.Volume, error) {
	out, err := x.api.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{
		{Name: aws.String("tag:" + awsapi.TagCase), Values: []string{x.caseID}},
		{Name: aws.String("tag:" + awsapi.TagRole), Values: []string{roleWorkstationEvidence}},
		{Name: aws.String("status"), Values: []string{"creating", "available", "in-use"}},
	}})
	if err != nil {
		return nil, fmt.Errorf("looking for the workstation's evidence volumes: %w", awsapi.Classify(err))
	}
	m := map[string]types.Volume{}
	for _, v := range out.Volumes {
		m[snapTag(v.Tags, wsTagSnapshot)] = v
	}
	return m, nil
}

func (x *wsRun) createVolume(ctx context.Context, s types.Snapshot, az string) (types.Volume, error) {
	snap := aws.ToString(s.SnapshotId)
	source := snapTag(s.Tags, snapTagVolume)
	if source == "" {
		source = aws.ToString(s.VolumeId)
	}
	out, err := x.api.CreateVolume(ctx, &ec2.CreateVolumeInput{SnapshotId: s.SnapshotId, AvailabilityZone: aws.String(az),
		TagSpecifications: x.tagSpec(types.ResourceTypeVolume, map[string]string{
			awsapi.TagRole: roleWorkstationEvidence, wsTagSnapshot: snap, snapTagVolume: source,
		})})
	if err != nil {
		return types.Volume{}, fmt.Errorf("creating a volume from %q in %q: %w", snap, az, awsapi.Classify(err))
	}
	id := aws.ToString(out.VolumeId)
	if err := awsapi.Change(ctx, x.in.Evidence, "ec2:CreateVolume", map[string]any{"volume_id": id, "snapshot_id": snap, "availability_zone": az}); err != nil {
		return types.Volume{}, err
	}
	return types.Volume{VolumeId: out.VolumeId, AvailabilityZone: aws.String(az), State: out.State}, nil
}

// attach attaches v to the instance at device, unless it already is, and
// returns the device it is at.
func (x *wsRun) attach(ctx context.Context, v types.Volume, instance, device string) (string, error) {
	id := aws.ToString(v.VolumeId)
	at, err := attachedAt(v, instance)
	if err != nil || at != "" {
		return at, err
	}
	if v.State != types.VolumeStateAvailable {
		w := ec2.NewVolumeAvailableWaiter(x.api)
		if err := w.Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}}, x.timeout); err != nil {
			return "", fmt.Errorf("waiting for volume %q: %w", id, engine.Retryable(err))
		}
	}
	if _, err := x.api.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(id), InstanceId: aws.String(instance), Device: aws.String(device)}); err != nil {
		return "", fmt.Errorf("attaching %q to %q at %s: %w", id, instance, device, awsapi.Classify(err))
	}
	if err := awsapi.Change(ctx, x.in.Evidence, "ec2:AttachVolume", map[string]any{"volume_id": id, "instance_id": instance, "device": device}); err != nil {
		return "", err
	}
	w := ec2.NewVolumeInUseWaiter(x.api)
	if err := w.Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}}, x.timeout); err != nil {
		return "", fmt.Errorf("waiting for volume %q to attach: %w", id, engine.Retryable(err))
	}
	return device, nil
}

// attachedAt returns the device v is attached at on instance ("" when it
// is not), and refuses v when any other instance has it: a Multi-Attach
// volume can be attached to several at once, in any order, and evidence
// another host can write to is not evidence.
func attachedAt(v types.Volume, instance string) (string, error) {
	var at string
	for _, a := range v.Attachments {
		switch {
		case a.State == types.VolumeAttachmentStateDetached:
		case aws.ToString(a.InstanceId) == instance:
			at = aws.ToString(a.Device)
		default:
			return "", fmt.Errorf("evidence volume %q is attached to %q, not only to the workstation %q: detach it there and run again", aws.ToString(v.VolumeId), aws.ToString(a.InstanceId), instance)
		}
	}
	return at, nil
}
