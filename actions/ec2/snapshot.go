package ec2

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// Tag keys the snapshot action writes and later finds its work by.
const (
	snapTagInstance = "firebreak:source-instance"
	snapTagVolume   = "firebreak:source-volume"
	snapTagCopyOf   = "firebreak:copy-of"
)

// kmsEBSPermissions are what EC2 needs of the caller on a customer managed
// KMS key to copy a snapshot into it or create a volume from a snapshot
// encrypted with it (kms:ReEncrypt* spelt out: the policy simulator takes
// no wildcard).
var kmsEBSPermissions = []string{"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey",
	"kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"}

// snapshotAPI is what the snapshot action needs from EC2; *ec2.Client has it.
type snapshotAPI interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	CreateSnapshots(ctx context.Context, in *ec2.CreateSnapshotsInput, opts ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error)
	CreateSnapshot(ctx context.Context, in *ec2.CreateSnapshotInput, opts ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error)
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, opts ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	CopySnapshot(ctx context.Context, in *ec2.CopySnapshotInput, opts ...func(*ec2.Options)) (*ec2.CopySnapshotOutput, error)
	ModifySnapshotAttribute(ctx context.Context, in *ec2.ModifySnapshotAttributeInput, opts ...func(*ec2.Options)) (*ec2.ModifySnapshotAttributeOutput, error)
}

// snapshot takes crash-consistent snapshots of every EBS volume attached to
// an instance. It is idempotent per case and instance: a rerun, or a resume
// after a crash anywhere after CreateSnapshots, finds the case's snapshots by
// tag and waits for those instead of taking a second set.
type snapshot struct {
	api func(region string) snapshotAPI
	// region resolves "" to the run's default region, for artifact ARNs.
	region func(region string) string
	// poll is the first wait between DescribeSnapshots polls; it doubles
	// up to 30s. Zero means 5s.
	poll time.Duration
}

var _ engine.Action = (*snapshot)(nil)

func registerSnapshot(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&snapshot{api: func(region string) snapshotAPI { return c.EC2(region) }, region: c.Region})
}

// snapshotParams declare snapshot's parameters.
type snapshotParams struct {
	InstanceID       string        `param:"instance_id,required" doc:"the instance whose attached volumes to snapshot"`
	Region           string        `param:"region" default:"" doc:"the instance's region; empty: the run's default"`
	WaitTimeout      time.Duration `param:"wait_timeout" default:"2h" doc:"how long to wait for the snapshots to complete (the step timeout also bounds it)"`
	CopyToKMSKey     string        `param:"copy_to_kms_key" default:"" doc:"copy each snapshot, encrypted with this KMS key (id, alias or ARN)"`
	ShareWithAccount string        `param:"share_with_account" default:"" doc:"grant this AWS account createVolumePermission on the snapshots (the copies when copy_to_kms_key is set)"`
}

var snapshotCalls = []string{"ec2:DescribeInstances", "ec2:DescribeSnapshots", "ec2:CreateSnapshots", "ec2:CreateSnapshot",
	"ec2:CreateTags", "ec2:CopySnapshot", "ec2:ModifySnapshotAttribute"}

func (*snapshot) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "snapshot",
		Summary: "Snapshot every EBS volume of an instance at once (crash-consistent), tagged with the case, and wait until complete",
		Params:  engine.ParamsOf[snapshotParams](),
		Outputs: []engine.Output{
			{Name: "snapshot_ids", Type: engine.TypeList, Doc: "the snapshots, in volume id order", Headline: true},
			{Name: "volumes", Type: engine.TypeMap, Doc: "volume id -> snapshot id"},
			{Name: "copies", Type: engine.TypeMap, Doc: "snapshot id -> its KMS-encrypted copy (copy_to_kms_key only)", Headline: true},
			{Name: "reused", Type: engine.TypeBool, Doc: "true when the case's snapshots already existed (rerun or resume)"},
		},
		Calls: snapshotCalls,
		// copy_to_kms_key: EC2 uses the key on the caller's behalf, so the
		// caller needs these on it too.
		Permissions: awsperm.ForCalls(snapshotCalls, kmsEBSPermissions...),
		Mutating:    true,
	}
}

func (a *snapshot) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[snapshotParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if p.WaitTimeout <= 0 {
		return nil, fmt.Errorf("snapshot: wait_timeout %v is not positive: give a duration such as \"2h\"", p.WaitTimeout)
	}
	id := p.InstanceID
	if id == "" {
		return nil, fmt.Errorf("snapshot: instance_id is empty: give the instance to snapshot")
	}
	if in.CaseID == "" {
		return nil, fmt.Errorf("snapshot: no case id: snapshots are tagged and found by case, run it through a case")
	}
	region := p.Region
	api := a.api(region)
	if a.region != nil {
		region = a.region(region)
	}
	volumes, err := attachedVolumes(ctx, api, id)
	if err != nil {
		return nil, err
	}
	set, reused, err := a.ensureSnapshots(ctx, api, in, id, volumes)
	if err != nil {
		return nil, err
	}
	done, err := a.waitCompleted(ctx, api, set.ids(), p.WaitTimeout)
	if err != nil {
		return nil, err
	}
	for _, s := range done {
		if err := in.Evidence.Record(ctx, snapshotArtifact(in, region, id, s)); err != nil {
			return nil, fmt.Errorf("snapshot: recording %q in the evidence: %w", aws.ToString(s.SnapshotId), err)
		}
	}
	copies, err := a.copyAndShare(ctx, api, in, p, region, set)
	if err != nil {
		return nil, err
	}
	return engine.Outputs{"snapshot_ids": set.idsAny(), "volumes": set.volumesAny(), "copies": copies, "reused": reused}, nil
}

// attachedVolumes returns the EBS volume ids attached to instance id, sorted.
func attachedVolumes(ctx context.Context, api snapshotAPI, id string) ([]string, error) {
	inst, err := describeInstance(ctx, api, id)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	vols := ebsVolumes(*inst)
	if len(vols) == 0 {
		return nil, fmt.Errorf("snapshot: instance %q has no EBS volume attached: its disks cannot be preserved by snapshot, image them from the host", id)
	}
	sort.Strings(vols)
	return vols, nil
}

// snapSet maps each volume to the case's snapshot of it.
type snapSet map[string]string

func (s snapSet) ids() []string {
	out := make([]string, 0, len(s))
	for _, v := range engine.SortedKeys(s) {
		out = append(out, s[v])
	}
	return out
}

func (s snapSet) idsAny() []any {
	out := []any{}
	for _, id := range s.ids() {
		out = append(out, id)
	}
	return out
}

func (s snapSet) volumesAny() map[string]any {
	out := make(map[string]any, len(s))
	for v, id := range s {
		out[v] = id
	}
	return out
}

func snapshotArtifact(in *engine.StepInput, region, instance string, s types.Snapshot) engine.Artifact {
	id, vol := aws.ToString(s.SnapshotId), aws.ToString(s.VolumeId)
	gib := int64(aws.ToInt32(s.VolumeSize))
	meta := map[string]any{"snapshot_id": id, "volume_id": vol, "volume_size_gib": gib,
		"state": string(s.State), "encrypted": aws.ToBool(s.Encrypted)}
	if s.StartTime != nil {
		meta["start_time"] = s.StartTime.UTC().Format(time.RFC3339)
	}
	if k := aws.ToString(s.KmsKeyId); k != "" {
		meta["kms_key_id"] = k
	}
	return engine.Artifact{
		ID:       id,
		Step:     in.StepID,
		Kind:     "ebs-snapshot",
		URI:      fmt.Sprintf("arn:aws:ec2:%s:%s:snapshot/%s", region, aws.ToString(s.OwnerId), id),
		Size:     gib << 30,
		Source:   map[string]string{"instance_id": instance, "volume_id": vol, "snapshot_id": id},
		Complete: s.State == types.SnapshotStateCompleted,
		Meta:     meta,
	}
}
