package ec2

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// s3Endpoint gives the workstation's own VPC, which has no way out, a
// gateway endpoint to S3 whose policy allows reading the evidence bucket
// and nothing else, and returns the S3 prefix list its group lets out on
// tcp/443. Found again by VPC and service on a rerun.
func (x *wsRun) s3Endpoint(ctx context.Context, vpc, bucket string) (string, error) {
	service := "com.amazonaws." + x.region + ".s3"
	found, err := x.api.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("service-name"), Values: []string{service}},
	}})
	if err != nil {
		return "", fmt.Errorf("looking for the S3 endpoint of %q: %w", vpc, awsapi.Classify(err))
	}
	if len(found.VpcEndpoints) == 0 {
		if err := x.createS3Endpoint(ctx, vpc, service, bucket); err != nil {
			return "", err
		}
	}
	pl, err := x.api.DescribePrefixLists(ctx, &ec2.DescribePrefixListsInput{Filters: []types.Filter{
		{Name: aws.String("prefix-list-name"), Values: []string{service}}}})
	if err != nil {
		return "", fmt.Errorf("reading the prefix list of %q: %w", service, awsapi.Classify(err))
	}
	if len(pl.PrefixLists) == 0 {
		return "", fmt.Errorf("no prefix list for %q", service)
	}
	return aws.ToString(pl.PrefixLists[0].PrefixListId), nil
}

func (x *wsRun) createS3Endpoint(ctx context.Context, vpc, service, bucket string) error {
	rts, err := x.api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("association.main"), Values: []string{"true"}},
	}})
	if err != nil {
		return fmt.Errorf("finding the main route table of %q: %w", vpc, awsapi.Classify(err))
	}
	if len(rts.RouteTables) == 0 {
		return fmt.Errorf("VPC %q has no main route table", vpc)
	}
	policy, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": "*",
		"Action":   []string{"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"},
		"Resource": []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"},
	}}})
	if err != nil {
		return err
	}
	rt := aws.ToString(rts.RouteTables[0].RouteTableId)
	out, err := x.api.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcId: aws.String(vpc), ServiceName: aws.String(service), VpcEndpointType: types.VpcEndpointTypeGateway,
		RouteTableIds: []string{rt}, PolicyDocument: aws.String(string(policy)),
		TagSpecifications: x.tagSpec(types.ResourceTypeVpcEndpoint, nil),
	})
	if err != nil {
		return fmt.Errorf("creating the S3 endpoint of %q: %w", vpc, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, x.in.Evidence, "ec2:CreateVpcEndpoint", map[string]any{
		"vpc_endpoint_id": aws.ToString(out.VpcEndpoint.VpcEndpointId), "service": service, "route_table_id": rt, "bucket": bucket})
}

// sameRule compares two rules by protocol, ports, IPv4 ranges and prefix
// lists; rules with group pairs or IPv6 ranges are never the ones wanted.
func sameRule(a, b types.IpPermission) bool {
	list := func(p types.IpPermission) []string {
		var out []string
		for _, r := range p.IpRanges {
			out = append(out, "cidr:"+aws.ToString(r.CidrIp))
		}
		for _, l := range p.PrefixListIds {
			out = append(out, "pl:"+aws.ToString(l.PrefixListId))
		}
		slices.Sort(out)
		return out
	}
	samePorts := aws.ToString(a.IpProtocol) == "-1" ||
		aws.ToInt32(a.FromPort) == aws.ToInt32(b.FromPort) && aws.ToInt32(a.ToPort) == aws.ToInt32(b.ToPort)
	return aws.ToString(a.IpProtocol) == aws.ToString(b.IpProtocol) && samePorts && slices.Equal(list(a), list(b)) &&
		len(a.UserIdGroupPairs) == 0 && len(a.Ipv6Ranges) == 0
}
