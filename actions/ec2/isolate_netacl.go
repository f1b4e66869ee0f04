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
		for _, egress := range []bool{false, true} {
			id, err := denyWithRetry(ctx, api, ev, a, egress)
			if err != nil {
				return changed, err
			}
			if egress {
				changed = append(changed, id)
			}
		}
	}
	return changed, nil
}

// denyWithRetry reads the subnet's ACL afresh for each try: another host
// of the subnet isolated at the same moment may take the rule number this
// one picked (NetworkAclEntryAlreadyExists).
func denyWithRetry(ctx context.Context, api isolateEC2, ev engine.Evidence, a hostAddr, egress bool) (string, error) {
	var err error
	for try := 0; try < 5; try++ {
		var acl types.NetworkAcl
		if acl, err = subnetACL(ctx, api, a.subnet); err != nil {
			return "", err
		}
		if err = denyEntry(ctx, api, ev, acl, egress, a.ip+"/32"); awsapi.Code(err) != "NetworkAclEntryAlreadyExists" {
			return aws.ToString(acl.NetworkAclId), err
		}
	}
	return "", err
}

func subnetACL(ctx context.Context, api isolateEC2, subnet string) (types.NetworkAcl, error) {
	out, err := api.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
		{Name: aws.String("association.subnet-id"), Values: []string{subnet}},
	}})
	if err != nil {
		return types.NetworkAcl{}, fmt.Errorf("finding the network ACL of subnet %q: %w", subnet, awsapi.Classify(err))
	}
	if len(out.NetworkAcls) == 0 {
		return types.NetworkAcl{}, fmt.Errorf("subnet %q has no network ACL associated", subnet)
	}
	return out.NetworkAcls[0], nil
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
