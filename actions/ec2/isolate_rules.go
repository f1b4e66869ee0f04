package ec2

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// settleRules makes g's rules exactly what spec says. fresh is true when
// this run has just created g: EC2 may answer InvalidGroup.NotFound for a
// while (eventual consistency), which is then waited out, not a failure.
func settleRules(ctx context.Context, api isolateEC2, ev engine.Evidence, g types.SecurityGroup, spec groupSpec, fresh bool) error {
	call := func(fn func() error) error { return fn() }
	if fresh {
		call = func(fn func() error) error { return retry(ctx, settleBackoff, pendingOrTransient, fn) }
	}
	id := aws.ToString(g.GroupId)
	hasWanted := false
	var extra []types.IpPermission
	for _, p := range g.IpPermissions {
		if spec.ingress != nil && samePermission(p, *spec.ingress) {
			hasWanted = true
			continue
		}
		extra = append(extra, p)
	}
	if len(extra) > 0 {
		if err := call(func() error {
			_, err := api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: extra})
			return err
		}); err != nil && !ruleGone(err) {
			return fmt.Errorf("revoking stray ingress rules of %q: %w", id, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, ev, "ec2:RevokeSecurityGroupIngress", map[string]any{"group_id": id, "rules": len(extra)}); err != nil {
			return err
		}
	}
	if spec.ingress != nil && !hasWanted {
		if err := call(func() error {
			_, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{*spec.ingress}})
			return err
		}); err != nil && awsapi.Code(err) != "InvalidPermission.Duplicate" {
			return fmt.Errorf("adding the ingress rule of %q: %w", id, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, ev, "ec2:AuthorizeSecurityGroupIngress", map[string]any{"group_id": id, "name": spec.name}); err != nil {
			return err
		}
	}
	if spec.egress != nil {
		return ensureEgress(ctx, api, ev, g, *spec.egress, call)
	}
	if len(g.IpPermissionsEgress) == 0 {
		return nil
	}
	if err := call(func() error {
		_, err := api.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: g.IpPermissionsEgress})
		return err
	}); err != nil && !ruleGone(err) {
		return fmt.Errorf("revoking the egress rules of %q: %w", id, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, ev, "ec2:RevokeSecurityGroupEgress", map[string]any{"group_id": id, "rules": len(g.IpPermissionsEgress)})
}

// ensureEgress adds each range of want that no all-protocol egress rule of
// g has yet, one range a call, so that an existing one (a duplicate) does
// not make EC2 refuse the others.
func ensureEgress(ctx context.Context, api isolateEC2, ev engine.Evidence, g types.SecurityGroup, want types.IpPermission, call func(func() error) error) error {
	id := aws.ToString(g.GroupId)
	have := map[string]bool{}
	for _, p := range g.IpPermissionsEgress {
		if aws.ToString(p.IpProtocol) == "-1" && len(p.UserIdGroupPairs)+len(p.PrefixListIds) == 0 {
			for _, c := range cidrsOf(p) {
				have[c] = true
			}
		}
	}
	var adds []types.IpPermission
	for _, r := range want.IpRanges {
		if !have[aws.ToString(r.CidrIp)] {
			adds = append(adds, types.IpPermission{IpProtocol: want.IpProtocol, IpRanges: []types.IpRange{r}})
		}
	}
	for _, r := range want.Ipv6Ranges {
		if !have[aws.ToString(r.CidrIpv6)] {
			adds = append(adds, types.IpPermission{IpProtocol: want.IpProtocol, Ipv6Ranges: []types.Ipv6Range{r}})
		}
	}
	for _, p := range adds {
		err := call(func() error {
			_, err := api.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{p}})
			return err
		})
		if awsapi.Code(err) == "InvalidPermission.Duplicate" {
			continue
		}
		if err != nil {
			return fmt.Errorf("adding the egress rule %q of %q: %w", cidrsOf(p), id, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, ev, "ec2:AuthorizeSecurityGroupEgress", map[string]any{"group_id": id, "cidrs": cidrsOf(p)}); err != nil {
			return err
		}
	}
	return nil
}

// ruleGone: a concurrent isolate of another host revoked the rule first.
func ruleGone(err error) bool { return awsapi.Code(err) == "InvalidPermission.NotFound" }

// cidrsOf lists a permission's IPv4 and IPv6 ranges, sorted.
func cidrsOf(p types.IpPermission) []string {
	var out []string
	for _, r := range p.IpRanges {
		out = append(out, aws.ToString(r.CidrIp))
	}
	for _, r := range p.Ipv6Ranges {
		out = append(out, aws.ToString(r.CidrIpv6))
	}
	slices.Sort(out)
	return out
}

func samePermission(a, b types.IpPermission) bool {
	// For all protocols the ports mean nothing; endpoints return nil or -1.
	samePorts := aws.ToString(a.IpProtocol) == "-1" ||
		aws.ToInt32(a.FromPort) == aws.ToInt32(b.FromPort) && aws.ToInt32(a.ToPort) == aws.ToInt32(b.ToPort)
	return aws.ToString(a.IpProtocol) == aws.ToString(b.IpProtocol) && samePorts && slices.Equal(cidrsOf(a), cidrsOf(b)) &&
		len(a.UserIdGroupPairs) == 0 && len(a.PrefixListIds) == 0
}
