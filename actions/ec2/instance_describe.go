package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// instanceDescriber is the one call describeInstance needs; every action's
// EC2 interface has it.
type instanceDescriber interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// describeInstance returns instance id, or an error that says it was not
// found (callers prefix their action's name).
func describeInstance(ctx context.Context, api instanceDescriber, id string) (*types.Instance, error) {
	out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return nil, fmt.Errorf("describing instance %q: %w", id, awsapi.Classify(err))
	}
	for _, r := range out.Reservations {
		for i := range r.Instances {
			if aws.ToString(r.Instances[i].InstanceId) == id {
				return &r.Instances[i], nil
			}
		}
	}
	return nil, fmt.Errorf("instance %q not found: check the id and the region", id)
}

// attributeReader is the call readProtection needs.
type attributeReader interface {
	DescribeInstanceAttribute(ctx context.Context, in *ec2.DescribeInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error)
}

// readProtection reads the two attributes isolate sets and terminate and
// release undo: termination protection and the shutdown behaviour ("" when
// the endpoint gives none).
func readProtection(ctx context.Context, api attributeReader, id string) (protected bool, shutdown string, err error) {
	dat, err := api.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameDisableApiTermination})
	if err != nil {
		return false, "", fmt.Errorf("reading termination protection of %q: %w", id, awsapi.Classify(err))
	}
	protected = dat.DisableApiTermination != nil && aws.ToBool(dat.DisableApiTermination.Value)
	sb, err := api.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameInstanceInitiatedShutdownBehavior})
	if err != nil {
		return protected, "", fmt.Errorf("reading shutdown behaviour of %q: %w", id, awsapi.Classify(err))
	}
	if sb.InstanceInitiatedShutdownBehavior != nil {
		shutdown = aws.ToString(sb.InstanceInitiatedShutdownBehavior.Value)
	}
	return protected, shutdown, nil
}

// ebsVolumes lists the instance's attached EBS volume ids.
func ebsVolumes(inst types.Instance) []string {
	var out []string
	for _, b := range inst.BlockDeviceMappings {
		if b.Ebs != nil && aws.ToString(b.Ebs.VolumeId) != "" {
			out = append(out, aws.ToString(b.Ebs.VolumeId))
		}
	}
	return out
}
