package ec2

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// securityGroup finds or makes the workstation's group and settles its
// rules: in, only tcp/22 from the examiner's range; out, only the VPC's
// own range (the examiner's replies need nothing: groups are stateful)
// and, given the S3 prefix list, tcp/443 to S3 through the VPC's gateway
// endpoint; never the internet, so that a sample run by mistake on the
// workstation cannot call home. A rule someone added by hand is revoked.
func (x *wsRun) securityGroup(ctx context.Context, vpc, s3PrefixList string) (string, error) {
	g, err := x.findOrCreateGroup(ctx, vpc)
	if err != nil {
		return "", err
	}
	vpcCIDR, err := x.vpcCIDR(ctx, vpc)
	if err != nil {
		return "", err
	}
	ssh := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges: []types.IpRange{{CidrIp: aws.String(x.cidr.String()), Description: aws.String("firebreak examiner ssh")}}}
	out := []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String(vpcCIDR)}}}}
	if s3PrefixList != "" {
		out = append(out, types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			PrefixListIds: []types.PrefixListId{{PrefixListId: aws.String(s3PrefixList), Description: aws.String("firebreak evidence bucket")}}})
	}
	id := aws.ToString(g.GroupId)
	if err := x.settle(ctx, id, g.IpPermissions, []types.IpPermission{ssh}, false); err != nil {
		return "", err
	}
	return id, x.settle(ctx, id, g.IpPermissionsEgress, out, true)
}

func (x *wsRun) findOrCreateGroup(ctx context.Context, vpc string) (types.SecurityGroup, error) {
	found, err := x.api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: x.tagFilters(types.Filter{Name: aws.String("vpc-id"), Values: []string{vpc}})})
	if err != nil {
		return types.SecurityGroup{}, fmt.Errorf("looking for the workstation's security group: %w", awsapi.Classify(err))
	}
	if len(found.SecurityGroups) > 0 {
		return found.SecurityGroups[0], nil
	}
	name := "firebreak-workstation-" + x.caseID
	made, err := x.api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(name), VpcId: aws.String(vpc), TagSpecifications: x.tagSpec(types.ResourceTypeSecurityGroup, nil),
		Description: aws.String("firebreak forensic workstation: ssh from the examiner only, no internet"),
	})
	if err != nil {
		return types.SecurityGroup{}, fmt.Errorf("creating security group %q in %q: %w", name, vpc, awsapi.Classify(err))
	}
	if err := awsapi.Change(ctx, x.in.Evidence, "ec2:CreateSecurityGroup", map[string]any{"group_id": aws.ToString(made.GroupId), "name": name, "vpc_id": vpc}); err != nil {
		return types.SecurityGroup{}, err
	}
	// A new group allows all egress; settle revokes it.
	return types.SecurityGroup{GroupId: made.GroupId, IpPermissionsEgress: []types.IpPermission{defaultEgress}}, nil
}

func (x *wsRun) vpcCIDR(ctx context.Context, vpc string) (string, error) {
	out, err := x.api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpc}})
	if err != nil {
		return "", fmt.Errorf("reading VPC %q: %w", vpc, awsapi.Classify(err))
	}
	if len(out.Vpcs) == 0 || aws.ToString(out.Vpcs[0].CidrBlock) == "" {
		return "", fmt.Errorf("VPC %q not found", vpc)
	}
	return aws.ToString(out.Vpcs[0].CidrBlock), nil
}

// settle makes one direction of the group's rules exactly want.
func (x *wsRun) settle(ctx context.Context, id string, have, want []types.IpPermission, egress bool) error {
	var extra, missing []types.IpPermission
	for _, p := range have {
		if !slices.ContainsFunc(want, func(w types.IpPermission) bool { return sameRule(p, w) }) {
			extra = append(extra, p)
		}
	}
	for _, w := range want {
		if !slices.ContainsFunc(have, func(p types.IpPermission) bool { return sameRule(p, w) }) {
			missing = append(missing, w)
		}
	}
	dir, op, g := "ingress", "Ingress", aws.String(id)
	if egress {
		dir, op = "egress", "Egress"
	}
	if len(extra) > 0 {
		var err error
		if egress {
			_, err = x.api.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: g, IpPermissions: extra})
		} else {
			_, err = x.api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: g, IpPermissions: extra})
		}
		if err != nil && !ruleGone(err) {
			return fmt.Errorf("revoking the other %s rules of %q: %w", dir, id, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, x.in.Evidence, "ec2:RevokeSecurityGroup"+op, map[string]any{"group_id": id, "rules": len(extra)}); err != nil {
			return err
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var err error
	if egress {
		_, err = x.api.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: g, IpPermissions: missing})
	} else {
		_, err = x.api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g, IpPermissions: missing})
	}
	if err != nil && awsapi.Code(err) != "InvalidPermission.Duplicate" {
		return fmt.Errorf("adding the %s rules of %q: %w", dir, id, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, x.in.Evidence, "ec2:AuthorizeSecurityGroup"+op, map[string]any{"group_id": id, "rules": len(missing)})
}
