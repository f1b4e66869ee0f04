package ec2

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// allCIDRs returns the CIDRs of g's all-protocol rules, IPv4 and IPv6.
func allCIDRs(perms []types.IpPermission) map[string]bool {
	got := map[string]bool{}
	for _, p := range perms {
		if aws.ToString(p.IpProtocol) == "-1" {
			for _, c := range cidrsOf(p) {
				got[c] = true
			}
		}
	}
	return got
}

// TestConversionGroupAllowsIPv4AndIPv6BothWays: the conversion group must
// allow every flow, IPv6 included, in and out, or IPv6 flows stay tracked
// through the swap. A conversion group left by hand without its egress
// rule (the default one is not to be trusted) gets both ranges back.
func TestConversionGroupAllowsIPv4AndIPv6BothWays(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	made, err := hw.check.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(conversionGroupName),
		VpcId: aws.String(hw.w.VPCID), Description: aws.String("made by hand, egress revoked")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = hw.check.EC2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: made.GroupId, IpPermissions: []types.IpPermission{defaultEgress}})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := hostRun(ctx, hw.isolateAction(), "cr-v6", "isolate", engine.Params{"instance_id": hw.w.InstanceID})
	if err != nil {
		t.Fatalf("isolate: %v", err)
	}
	conv := out["conversion_group_id"].(string)
	if conv != aws.ToString(made.GroupId) {
		t.Fatalf("conversion group: got %s, want the existing %s", conv, aws.ToString(made.GroupId))
	}
	g := hw.group(t, ctx, conv)
	for dir, perms := range map[string][]types.IpPermission{"ingress": g.IpPermissions, "egress": g.IpPermissionsEgress} {
		got := allCIDRs(perms)
		if !got["0.0.0.0/0"] || !got["::/0"] {
			t.Errorf("conversion group %s: all-traffic CIDRs %v, want 0.0.0.0/0 and ::/0", dir, got)
		}
	}
}
