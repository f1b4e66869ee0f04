package ec2

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// collectEC2 is what collect-metadata needs from EC2; *ec2.Client has it.
type collectEC2 interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, opts ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeInstanceAttribute(ctx context.Context, in *ec2.DescribeInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error)
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	GetConsoleOutput(ctx context.Context, in *ec2.GetConsoleOutputInput, opts ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error)
	GetConsoleScreenshot(ctx context.Context, in *ec2.GetConsoleScreenshotInput, opts ...func(*ec2.Options)) (*ec2.GetConsoleScreenshotOutput, error)
}

// collectIAM is what collect-metadata needs from IAM.
type collectIAM interface {
	GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, opts ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, opts ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, opts ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, opts ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
}

// collectASG is what collect-metadata needs from Auto Scaling.
type collectASG interface {
	DescribeAutoScalingInstances(ctx context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
}

type collectAPIs struct {
	ec2 collectEC2
	iam collectIAM
	asg collectASG
}

// collectMetadata saves what EC2 and IAM know of an instance, one artifact
// per call, before anything is changed. It changes nothing. A call the
// endpoint does not implement is recorded as a gap and does not fail it.
type collectMetadata struct {
	apis   func(region string) collectAPIs
	region func(region string) string
}

var _ engine.Action = (*collectMetadata)(nil)

func registerCollectMetadata(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&collectMetadata{region: c.Region, apis: func(region string) collectAPIs {
		return collectAPIs{ec2: c.EC2(region), iam: c.IAM(), asg: c.AutoScaling(region)}
	}})
}

var collectCalls = []string{
	"ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
	"ec2:DescribeInstanceAttribute", "ec2:DescribeImages", "ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot",
	"iam:GetInstanceProfile", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
	"autoscaling:DescribeAutoScalingInstances",
}

// collectParams declare collect-metadata's parameters.
type collectParams struct {
	InstanceID string `param:"instance_id,required"`
	Region     string `param:"region" default:"" doc:"the instance's region; empty: the run's default"`
}

func (*collectMetadata) Spec() engine.ActionSpec {
	str := func(name, doc string) engine.Output {
		return engine.Output{Name: name, Type: engine.TypeString, Doc: doc}
	}
	list := func(name string) engine.Output { return engine.Output{Name: name, Type: engine.TypeList} }
	return engine.ActionSpec{
		Name:    "collect-metadata",
		Summary: "Save the instance's description, volumes, interfaces, security groups (full rules), attributes, profile and role policies, AMI, tags, console output and screenshot as artifacts",
		Params:  engine.ParamsOf[collectParams](),
		Outputs: []engine.Output{
			str("platform", "linux or windows"), str("region", ""), str("az", ""), str("vpc_id", ""), str("subnet_id", ""),
			list("volume_ids"), list("eni_ids"), list("security_group_ids"), str("private_ip", ""), str("public_ip", ""),
			str("ami_id", ""), str("instance_profile_arn", ""), str("asg_name", "the Auto Scaling group, or empty"),
			str("launch_time", "RFC 3339"), str("console_output", "the console output text, decoded"),
			{Name: "gaps", Type: engine.TypeList, Doc: "calls the endpoint does not implement"},
			{Name: "substeps", Type: engine.TypeMap},
		},
		Calls:       collectCalls,
		Permissions: awsperm.ForCalls(collectCalls),
	}
}

func (a *collectMetadata) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[collectParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("collect-metadata: %w", err)
	}
	id, region := p.InstanceID, a.region(p.Region)
	c := &collection{apis: a.apis(region), in: in, id: id, steps: newGapSubsteps(in.Evidence)}
	inst, err := describeInstance(ctx, c.apis.ec2, id)
	if err != nil {
		return nil, fmt.Errorf("collect-metadata: %w", err)
	}
	c.inst = inst
	c.out = instanceOutputs(inst, region)
	c.collectAll(ctx)
	c.out["substeps"], c.out["gaps"] = c.steps.asMap(), stringsAny(c.gaps)
	if err := c.summary(ctx); err != nil {
		return c.out, fmt.Errorf("collect-metadata: %w", err)
	}
	return c.out, c.steps.err("collect-metadata")
}

// instanceOutputs are the outputs DescribeInstances alone answers.
func instanceOutputs(inst *types.Instance, region string) engine.Outputs {
	platform := "linux"
	if inst.Platform == types.PlatformValuesWindows {
		platform = "windows"
	}
	vols, enis, groups := []any{}, []any{}, []any{}
	seen := map[string]bool{}
	for _, b := range inst.BlockDeviceMappings {
		if b.Ebs != nil {
			vols = append(vols, aws.ToString(b.Ebs.VolumeId))
		}
	}
	for _, n := range inst.NetworkInterfaces {
		enis = append(enis, aws.ToString(n.NetworkInterfaceId))
		for _, g := range n.Groups {
			if id := aws.ToString(g.GroupId); !seen[id] {
				seen[id] = true
				groups = append(groups, id)
			}
		}
	}
	out := engine.Outputs{
		"platform": platform, "region": region, "vpc_id": aws.ToString(inst.VpcId), "subnet_id": aws.ToString(inst.SubnetId),
		"volume_ids": vols, "eni_ids": enis, "security_group_ids": groups, "ami_id": aws.ToString(inst.ImageId),
		"private_ip": aws.ToString(inst.PrivateIpAddress), "public_ip": aws.ToString(inst.PublicIpAddress),
		"az": "", "instance_profile_arn": "", "asg_name": awsapi.EC2TagMap(inst.Tags)["aws:autoscaling:groupName"],
		"launch_time": "", "console_output": "",
	}
	if inst.Placement != nil {
		out["az"] = aws.ToString(inst.Placement.AvailabilityZone)
	}
	if inst.IamInstanceProfile != nil {
		out["instance_profile_arn"] = aws.ToString(inst.IamInstanceProfile.Arn)
	}
	if inst.LaunchTime != nil {
		out["launch_time"] = inst.LaunchTime.UTC().Format(time.RFC3339)
	}
	return out
}
