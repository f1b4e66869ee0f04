package ec2

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// The workstation's own network: one VPC and one subnet, with no internet
// gateway and no route but the VPC's local one. Nothing on it can reach
// the internet, and nothing on the internet can reach it.
const (
	workstationVPCCIDR    = "10.254.0.0/16"
	workstationSubnetCIDR = "10.254.1.0/24"
)

// tagFilters selects what this case's workstation made.
func (x *wsRun) tagFilters(extra ...types.Filter) []types.Filter {
	return append([]types.Filter{
		{Name: aws.String("tag:" + awsapi.TagCase), Values: []string{x.caseID}},
		{Name: aws.String("tag:" + awsapi.TagRole), Values: []string{roleWorkstation}},
	}, extra...)
}

func (x *wsRun) tagSpec(rt types.ResourceType, extra map[string]string) []types.TagSpecification {
	m := map[string]string{"Name": "firebreak-workstation-" + x.caseID}
	for k, v := range x.tags {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return []types.TagSpecification{{ResourceType: rt, Tags: awsapi.EC2Tags(m)}}
}

// network returns the VPC, subnet and availability zone the workstation
// goes in: the given subnet's, or its own, made on first use.
func (x *wsRun) network(ctx context.Context, subnetID string) (vpc, subnet, az string, err error) {
	filters := x.tagFilters()
	var in *ec2.DescribeSubnetsInput
	if subnetID != "" {
		in = &ec2.DescribeSubnetsInput{SubnetIds: []string{subnetID}}
	} else {
		if vpc, err = x.ownVPC(ctx); err != nil {
			return "", "", "", err
		}
		in = &ec2.DescribeSubnetsInput{Filters: append(filters, types.Filter{Name: aws.String("vpc-id"), Values: []string{vpc}})}
	}
	out, err := x.api.DescribeSubnets(ctx, in)
	if err != nil {
		return "", "", "", fmt.Errorf("looking for the workstation's subnet: %w", awsapi.Classify(err))
	}
	if len(out.Subnets) > 0 {
		s := out.Subnets[0]
		return aws.ToString(s.VpcId), aws.ToString(s.SubnetId), aws.ToString(s.AvailabilityZone), nil
	}
	if subnetID != "" {
		return "", "", "", fmt.Errorf("subnet %q not found", subnetID)
	}
	subnet, az, err = x.createSubnet(ctx, vpc)
	return vpc, subnet, az, err
}

func (x *wsRun) ownVPC(ctx context.Context) (string, error) {
	out, err := x.api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: x.tagFilters()})
	if err != nil {
		return "", fmt.Errorf("looking for the workstation's VPC: %w", awsapi.Classify(err))
	}
	if len(out.Vpcs) > 0 {
		return aws.ToString(out.Vpcs[0].VpcId), nil
	}
	made, err := x.api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(workstationVPCCIDR), TagSpecifications: x.tagSpec(types.ResourceTypeVpc, nil)})
	if err != nil {
		return "", fmt.Errorf("creating the workstation's VPC: %w", awsapi.Classify(err))
	}
	id := aws.ToString(made.Vpc.VpcId)
	return id, awsapi.Change(ctx, x.in.Evidence, "ec2:CreateVpc", map[string]any{"vpc_id": id, "cidr": workstationVPCCIDR, "internet_gateway": false})
}

// createSubnet makes the subnet in the region's first available zone (by
// name, so that the choice is the same on every run).
func (x *wsRun) createSubnet(ctx context.Context, vpc string) (string, string, error) {
	zones, err := x.api.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{
		Filters: []types.Filter{{Name: aws.String("state"), Values: []string{"available"}}},
	})
	if err != nil {
		return "", "", fmt.Errorf("listing availability zones: %w", awsapi.Classify(err))
	}
	var names []string
	for _, z := range zones.AvailabilityZones {
		names = append(names, aws.ToString(z.ZoneName))
	}
	if len(names) == 0 {
		return "", "", fmt.Errorf("the region has no available zone")
	}
	sort.Strings(names)
	made, err := x.api.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(workstationSubnetCIDR),
		AvailabilityZone: aws.String(names[0]), TagSpecifications: x.tagSpec(types.ResourceTypeSubnet, nil)})
	if err != nil {
		return "", "", fmt.Errorf("creating the workstation's subnet in %q: %w", vpc, awsapi.Classify(err))
	}
	id := aws.ToString(made.Subnet.SubnetId)
	return id, names[0], awsapi.Change(ctx, x.in.Evidence, "ec2:CreateSubnet", map[string]any{"subnet_id": id, "vpc_id": vpc, "availability_zone": names[0]})
}
