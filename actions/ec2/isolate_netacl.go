package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/actions/awsapi"
	"github.com/firebreak-ir/firebreak/engine"
)

// hostAddr is one address of the host, in its subnet.
type hostAddr struct{ subnet, ip string }

// hostAddrs lists the primary private address of every ENI with its subnet.
func hostAddrs(inst *types.Instance) []hostAddr {
	var out []hostAddr
	for _, n := range inst.NetworkInterfaces {
		if ip := aws.ToString(n.PrivateIpAddress); ip != "" {
			out = append(out, hostAddr{subnet: aws.ToString(n.SubnetId), ip: ip})
		}
	}
	return out
}

// denyInNACL adds deny-all entries for each address /32, in and out, to
// the network ACL its subnet is associated with now: the entries take
// effect at once, on the ACL the subnet really uses (the old AWS-IR made a
// new ACL and never associated it). They go in below every allow entry,
// since ACL entries are evaluated lowest number first. A NACL filters only
// traffic that leaves or enters the subnet; the security groups stop the
// rest. It returns the ACL ids changed.
func denyInNACL(ctx context.Context, api isolateEC2, ev engine.Evidence, addrs []hostAddr) ([]string, error) {
	var changed []string
	for _, a := range addrs {
		out, err := api.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
			{Name: aws.String("association.subnet-id"), Values: []string{a.subnet}},
		}})
		if err != nil {
			return changed, fmt.Errorf("finding the network ACL of subnet %q: %w", a.subnet, awsapi.Classify(err))
		}
		if len(out.NetworkAcls) == 0 {
			return changed, fmt.Errorf("subnet %q has no network ACL associated", a.subnet)
		}
		acl := out.NetworkAcls[0]
		for _, egress := range []bool{false, true} {
			if err := denyEntry(ctx, api, ev, acl, egress, a.ip+"/32"); err != nil {
				return changed, err
			}
		}
		changed = append(changed, aws.ToString(acl.NetworkAclId))
	}
	return changed, nil
}

func denyEntry(ctx context.Context, api isolateEC2, ev engine.Evidence, acl types.NetworkAcl, egress bool, cidr string) error {
	id := aws.ToString(acl.NetworkAclId)
	used := map[int32]bool{}
	lowestAllow := int32(32767)
	for _, e := range acl.Entries {
		if aws.ToBool(e.Egress) != egress {
			continue
		}
		n := aws.ToInt32(e.RuleNumber)
		used[n] = true
		if aws.ToString(e.CidrBlock) == cidr && e.RuleAction == types.RuleActionDeny && aws.ToString(e.Protocol) == "-1" {
			return nil // made by an earlier run
		}
		if e.RuleAction == types.RuleActionAllow && n < lowestAllow {
			lowestAllow = n
		}
	}
	rule := int32(1)
	for used[rule] {
		rule++
	}
	if rule >= lowestAllow {
		return fmt.Errorf("network ACL %q has no free rule number below its first allow entry (%d): free one and run again", id, lowestAllow)
	}
	if _, err := api.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{
		NetworkAclId: aws.String(id), RuleNumber: aws.Int32(rule), Egress: aws.Bool(egress),
		Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, CidrBlock: aws.String(cidr),
	}); err != nil {
		return fmt.Errorf("adding a deny entry for %s to network ACL %q: %w", cidr, id, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, ev, "ec2:CreateNetworkAclEntry", map[string]any{"network_acl_id": id, "rule_number": rule, "egress": egress, "cidr": cidr, "action": "deny"})
}
