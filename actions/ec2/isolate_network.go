package ec2

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Names of the groups isolate keeps, one of each per VPC. They are found
// again by name, so a rerun or another case in the same VPC reuses them.
const (
	conversionGroupName = "firebreak-conversion"
	isolationGroupName  = "firebreak-isolation"
	sshGroupPrefix      = "firebreak-isolation-ssh-" // + the CIDR: one group per examiner range
)

// groupSpec is a group isolate needs: its name and the only ingress rule it
// may hold (nil: none). None of them keeps an egress rule except the
// conversion group, which allows everything both ways, IPv4 and IPv6, on
// purpose: moving an ENI into it makes every open flow untracked, so that
// the next move into a group without rules cuts them instead of letting
// tracked connections live on (AWS security group connection tracking).
// A rule for 0.0.0.0/0 alone would leave IPv6 flows tracked.
type groupSpec struct {
	name, role string
	ingress    *types.IpPermission
	egress     *types.IpPermission // nil: no egress rule at all
}

// allTraffic is every protocol from and to anywhere, IPv4 and IPv6.
var allTraffic = types.IpPermission{IpProtocol: aws.String("-1"),
	IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}, Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}

// defaultEgress is the rule EC2 gives a new group in a VPC (IPv4 only
// when the VPC has no IPv6 block).
var defaultEgress = types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}

func conversionSpec() groupSpec {
	return groupSpec{name: conversionGroupName, role: "conversion", ingress: &allTraffic, egress: &allTraffic}
}

func isolationSpec() groupSpec { return groupSpec{name: isolationGroupName, role: "isolation"} }

// sshSpec is the isolation group that lets the examiner range reach tcp/22
// and nothing else. A separate group keeps the plain isolation group empty
// for every other host isolated in the VPC. Replies need no egress rule:
// security groups are stateful.
func sshSpec(cidr netip.Prefix) groupSpec {
	rule := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges: []types.IpRange{{CidrIp: aws.String(cidr.String()), Description: aws.String("firebreak examiner ssh")}}}
	return groupSpec{name: sshGroupPrefix + cidr.String(), role: "isolation-ssh", ingress: &rule}
}

// parseExaminerCIDR checks allow_ssh_from; "" means no SSH.
func parseExaminerCIDR(s string) (netip.Prefix, bool, error) {
	if s == "" {
		return netip.Prefix{}, false, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, aerr := netip.ParseAddr(s); aerr == nil {
			p, err = a.Prefix(a.BitLen())
		}
	}
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, false, fmt.Errorf("allow_ssh_from %q is not an IPv4 CIDR: give the examiner's range, e.g. 198.51.100.7/32", s)
	}
	if p.Bits() < 8 {
		return netip.Prefix{}, false, fmt.Errorf("allow_ssh_from %q opens SSH to too much of the internet for an isolated host: give the examiner's range, /8 or narrower", s)
	}
	return p.Masked(), true, nil
}

// ensureGroup finds the group by name in the VPC or creates it, then makes
// its rules exactly what spec says, revoking anything else (a rule someone
// added by hand, or the default egress rule of a new group).
//
// Hosts of one VPC isolated at once (a for_each step) race to create the
// group: the loser's create fails as a duplicate and it takes the
// winner's group.
func ensureGroup(ctx context.Context, api isolateEC2, ev engine.Evidence, vpc, caseID string, spec groupSpec) (string, error) {
	g, found, err := findGroup(ctx, api, vpc, spec.name)
	if err != nil {
		return "", err
	}
	fresh := !found
	if !found {
		g, err = createGroup(ctx, api, ev, vpc, caseID, spec)
		if awsapi.Code(err) == "InvalidGroup.Duplicate" {
			g, found, err = findGroup(ctx, api, vpc, spec.name)
			if err == nil && !found {
				err = fmt.Errorf("security group %q in %q exists by its create and not by its name: run the step again", spec.name, vpc)
			}
		}
		if err != nil {
			return "", err
		}
	}
	return aws.ToString(g.GroupId), settleRules(ctx, api, ev, g, spec, fresh)
}

func findGroup(ctx context.Context, api isolateEC2, vpc, name string) (types.SecurityGroup, bool, error) {
	out, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{name}},
	}})
	if err != nil {
		return types.SecurityGroup{}, false, fmt.Errorf("looking for security group %q in %q: %w", name, vpc, awsapi.Classify(err))
	}
	if len(out.SecurityGroups) == 0 {
		return types.SecurityGroup{}, false, nil
	}
	return out.SecurityGroups[0], true, nil
}

func createGroup(ctx context.Context, api isolateEC2, ev engine.Evidence, vpc, caseID string, spec groupSpec) (types.SecurityGroup, error) {
	out, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(spec.name), VpcId: aws.String(vpc),
		Description: aws.String("firebreak " + spec.role + " group: made by incident response, do not add rules"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: awsapi.EC2Tags(map[string]string{
			awsapi.TagRole: spec.role, awsapi.TagCase: caseID, awsapi.TagVPC: vpc,
		})}},
	})
	if err != nil {
		return types.SecurityGroup{}, fmt.Errorf("creating security group %q in %q: %w", spec.name, vpc, awsapi.Classify(err))
	}
	if err := awsapi.Change(ctx, ev, "ec2:CreateSecurityGroup", map[string]any{"group_id": aws.ToString(out.GroupId), "name": spec.name, "vpc_id": vpc}); err != nil {
		return types.SecurityGroup{}, err
	}
	// A new group has no ingress and, usually, the default egress rule:
	// revoked when the spec wants none; never trusted to be there when
	// the spec wants egress (ensureEgress adds each range, a duplicate is
	// no error).
	if spec.egress != nil {
		return types.SecurityGroup{GroupId: out.GroupId}, nil
	}
	return types.SecurityGroup{GroupId: out.GroupId, IpPermissionsEgress: []types.IpPermission{defaultEgress}}, nil
}
