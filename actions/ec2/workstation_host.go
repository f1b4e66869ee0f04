package ec2

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// caseSnapshots returns the case's snapshots (those snapshot took, not
// their copies), sorted by id so that each gets the same device on every
// run; it waits for any still pending.
func (x *wsRun) caseSnapshots(ctx context.Context) ([]types.Snapshot, error) {
	out, err := x.api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:" + awsapi.TagCase), Values: []string{x.caseID}}}})
	if err != nil {
		return nil, fmt.Errorf("looking for the case's snapshots: %w", awsapi.Classify(err))
	}
	var snaps []types.Snapshot
	var pending []string
	for _, s := range out.Snapshots {
		if s.State == types.SnapshotStateError || snapTag(s.Tags, snapTagCopyOf) != "" {
			continue
		}
		snaps = append(snaps, s)
		if s.State != types.SnapshotStateCompleted {
			pending = append(pending, aws.ToString(s.SnapshotId))
		}
	}
	if len(snaps) == 0 {
		return nil, fmt.Errorf("no snapshot is tagged %s=%s: snapshot the case's instances first (the snapshot action)", awsapi.TagCase, x.caseID)
	}
	if len(snaps) > len(workstationDevices) {
		return nil, fmt.Errorf("the case has %d snapshots and a workstation takes %d", len(snaps), len(workstationDevices))
	}
	if len(pending) > 0 {
		w := ec2.NewSnapshotCompletedWaiter(x.api)
		if err := w.Wait(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: pending}, x.timeout); err != nil {
			return nil, fmt.Errorf("waiting for snapshots %v to complete: %w", pending, engine.Retryable(err))
		}
	}
	sort.Slice(snaps, func(i, j int) bool { return aws.ToString(snaps[i].SnapshotId) < aws.ToString(snaps[j].SnapshotId) })
	return snaps, nil
}

// host is the workstation instance as the volumes part needs it.
type host struct{ id, privateIP string }

// instance finds the case's workstation or launches it, and waits until
// it runs.
func (x *wsRun) instance(ctx context.Context, subnet, sg, profile string) (host, error) {
	found, err := x.api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: x.tagFilters(types.Filter{
		Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}})})
	if err != nil {
		return host{}, fmt.Errorf("looking for the workstation: %w", awsapi.Classify(err))
	}
	var id string
	for _, r := range found.Reservations {
		for _, i := range r.Instances {
			id = aws.ToString(i.InstanceId)
			if st := i.State; st != nil && (st.Name == types.InstanceStateNameStopped || st.Name == types.InstanceStateNameStopping) {
				return host{}, fmt.Errorf("workstation %q is %s: start it and run again", id, st.Name)
			}
		}
	}
	if id == "" {
		if id, err = x.launch(ctx, subnet, sg, profile); err != nil {
			return host{}, err
		}
	}
	w := ec2.NewInstanceRunningWaiter(x.api)
	got, err := w.WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, x.timeout)
	if err != nil {
		return host{}, fmt.Errorf("waiting for workstation %q to run: %w", id, engine.Retryable(err))
	}
	return host{id: id, privateIP: aws.ToString(got.Reservations[0].Instances[0].PrivateIpAddress)}, nil
}

func (x *wsRun) launch(ctx context.Context, subnet, sg, profile string) (string, error) {
	in := &ec2.RunInstancesInput{
		ImageId: aws.String(x.p.AMIID), InstanceType: types.InstanceType(x.p.InstanceType),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet), SecurityGroupIds: []string{sg},
		// The same token on a retry after a lost answer launches nothing new.
		ClientToken:       aws.String("firebreak-workstation-" + x.caseID),
		TagSpecifications: append(x.tagSpec(types.ResourceTypeInstance, nil), x.tagSpec(types.ResourceTypeVolume, map[string]string{awsapi.TagRole: "workstation-root"})...),
		MetadataOptions:   &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired},
	}
	if k := x.p.KeyName; k != "" {
		in.KeyName = aws.String(k)
	}
	if x.p.AnalysisTools {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(analysisToolsUserData)))
	}
	if profile != "" {
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String(profile)}
	}
	out, err := x.api.RunInstances(ctx, in)
	if err != nil {
		// A profile made a moment ago may not be visible to EC2 yet: the
		// step's retry finds everything else made and tries again.
		if profile != "" && awsapi.Code(err) == "InvalidParameterValue" {
			err = engine.Retryable(err)
		}
		return "", fmt.Errorf("launching the workstation: %w", awsapi.Classify(err))
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	return id, awsapi.Change(ctx, x.in.Evidence, "ec2:RunInstances", map[string]any{"instance_id": id, "subnet_id": subnet, "security_group_id": sg, "instance_profile": profile})
}
