package ec2

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// hostAddr is one private address of the host, in its subnet.
type hostAddr struct{ subnet, ip string }

// hostAddrs lists every private address of every ENI, with its subnet.
func hostAddrs(inst *types.Instance) []hostAddr {
	var out []hostAddr
	seen := map[string]bool{}
	for _, n := range inst.NetworkInterfaces {
		ips := []string{aws.ToString(n.PrivateIpAddress)}
		for _, p := range n.PrivateIpAddresses {
			ips = append(ips, aws.ToString(p.PrivateIpAddress))
		}
		for _, ip := range ips {
			if ip != "" && !seen[ip] {
				seen[ip] = true
				out = append(out, hostAddr{subnet: aws.ToString(n.SubnetId), ip: ip})
			}
		}
	}
	return out
}

// denyInNACL denies the host's addresses in the network ACLs of the other
// subnets of its VPC, in and out, below every allow entry (entries are
// evaluated lowest number first), on ACLs that are associated now (the old
// AWS-IR made ACLs it never associated).
//
// Why the other subnets: an ACL entry matches only the far side of
// traffic crossing its subnet's boundary (the source for inbound, the
// destination for outbound), so an entry for the host's own address on
// its own subnet's ACL never matches anything. On the other subnets, the
// inbound deny stops the host reaching them and the outbound deny stops
// them reaching it, replies included, since ACLs are stateless. That cuts
// lateral movement across subnets; traffic inside the host's subnet and to
// the internet is the security groups' to stop. It returns the ACLs changed.
func denyInNACL(ctx context.Context, api isolateEC2, ev engine.Evidence, vpc string, addrs []hostAddr) ([]string, error) {
	own := map[string]bool{}
	for _, a := range addrs {
		own[a.subnet] = true
	}
	changed := map[string]bool{}
	for _, a := range addrs {
		for _, egress := range []bool{false, true} {
			ids, err := denyWithRetry(ctx, api, ev, vpc, own, a.ip+"/32", egress)
			for _, id := range ids {
				changed[id] = true
			}
			if err != nil {
				return engine.SortedKeys(changed), err
			}
		}
	}
	return engine.SortedKeys(changed), nil
}

// denyWithRetry reads the ACLs afresh for each try: another host isolated
// at the same moment may take the rule number this one picked
// (NetworkAclEntryAlreadyExists). Entries already made are found again.
func denyWithRetry(ctx context.Context, api isolateEC2, ev engine.Evidence, vpc string, own map[string]bool, cidr string, egress bool) ([]string, error) {
	var err error
	for try := 0; try < 5; try++ {
		var acls []types.NetworkAcl
		if acls, err = vpcACLs(ctx, api, vpc); err != nil {
			return nil, err
		}
		var ids []string
		for _, acl := range otherSubnetACLs(acls, own) {
			if err = denyEntry(ctx, api, ev, acl, egress, cidr); err != nil {
				break
			}
			ids = append(ids, aws.ToString(acl.NetworkAclId))
		}
		if awsapi.Code(err) != "NetworkAclEntryAlreadyExists" {
			return ids, err
		}
	}
	return nil, err
}

func vpcACLs(ctx context.Context, api isolateEC2, vpc string) ([]types.NetworkAcl, error) {
	out, err := api.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}},
	}})
	if err != nil {
		return nil, fmt.Errorf("listing the network ACLs of %q: %w", vpc, awsapi.Classify(err))
	}
	sort.Slice(out.NetworkAcls, func(i, j int) bool {
		return aws.ToString(out.NetworkAcls[i].NetworkAclId) < aws.ToString(out.NetworkAcls[j].NetworkAclId)
	})
	return out.NetworkAcls, nil
}

// otherSubnetACLs are the ACLs associated with at least one subnet that
// holds none of the host's interfaces.
func otherSubnetACLs(acls []types.NetworkAcl, own map[string]bool) []types.NetworkAcl {
	var out []types.NetworkAcl
	for _, acl := range acls {
		for _, as := range acl.Associations {
			if !own[aws.ToString(as.SubnetId)] {
				out = append(out, acl)
				break
			}
		}
	}
	return out
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
