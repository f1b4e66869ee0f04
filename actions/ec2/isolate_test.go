package ec2

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

var isolateNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func (hw *hostWorld) isolateAction() *isolate {
	return &isolate{apis: clientAPIs(hw.clients), region: hw.clients.Region, now: func() time.Time { return isolateNow }}
}

// TestIsolateContainsTheHost runs isolate on the fixture world and then
// reads every promised effect back through the SDK.
func TestIsolateContainsTheHost(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	w := hw.w
	out, ev, err := hostRun(ctx, hw.isolateAction(), "cr-iso", "isolate", engine.Params{"instance_id": w.InstanceID, "revoke_sessions": true})
	if err != nil {
		t.Fatalf("isolate: %v\nsubsteps: %v", err, out["substeps"])
	}
	iso, _ := out["isolation_group_id"].(string)
	hw.assertIsolated(t, ctx, iso, w.ENIIDs)

	inst := hw.instance(t, ctx)
	if inst.State.Name != types.InstanceStateNameRunning {
		t.Errorf("instance state: got %s, want running (isolation keeps the host alive)", inst.State.Name)
	}
	if inst.IamInstanceProfile != nil {
		t.Errorf("instance profile: got %s, want none", aws.ToString(inst.IamInstanceProfile.Arn))
	}
	for _, b := range inst.BlockDeviceMappings {
		if aws.ToBool(b.Ebs.DeleteOnTermination) {
			t.Errorf("volume %s: DeleteOnTermination true, want false", aws.ToString(b.Ebs.VolumeId))
		}
	}
	if got := hw.attr(t, ctx, types.InstanceAttributeNameDisableApiTermination); got != "true" {
		t.Errorf("termination protection: got %s, want true", got)
	}
	if got := hw.attr(t, ctx, types.InstanceAttributeNameInstanceInitiatedShutdownBehavior); got != "stop" {
		t.Errorf("shutdown behaviour: got %s, want stop", got)
	}
	tags := tagMap(inst.Tags)
	if tags["firebreak:case"] != "cr-iso" || tags["firebreak:status"] != "isolated" {
		t.Errorf("tags: got case %q status %q, want cr-iso and isolated", tags["firebreak:case"], tags["firebreak:status"])
	}
	hw.assertOutOfTraffic(t, ctx)
	hw.assertRevoked(t, ctx)

	var pre preState
	if err := json.Unmarshal(object(ev, "pre-isolation-state.json"), &pre); err != nil {
		t.Fatalf("pre-isolation artifact: %v", err)
	}
	if !equalStrings(pre.Groups[w.PrimaryENI], w.GroupsByENI[w.PrimaryENI]) || pre.ShutdownBehavior == "" || pre.AutoScalingGroup != w.ASGName ||
		len(pre.TargetGroups) != 1 || pre.InstanceProfileARN != w.InstanceProfileARN || !pre.DeleteOnTermination[rootDevice(inst)] {
		t.Errorf("pre-isolation artifact: got %+v, want the fixture's groups, ASG, target group, profile, DeleteOnTermination true", pre)
	}
	if n := len(ev.EventsNamed("aws-change")); n < 10 {
		t.Errorf("custody: got %d aws-change events, want one per change (at least 10)", n)
	}
}

func (hw *hostWorld) instance(t *testing.T, ctx context.Context) types.Instance {
	t.Helper()
	out, err := hw.check.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{hw.w.InstanceID}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	return out.Reservations[0].Instances[0]
}

func (hw *hostWorld) attr(t *testing.T, ctx context.Context, name types.InstanceAttributeName) string {
	t.Helper()
	out, err := hw.check.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(hw.w.InstanceID), Attribute: name})
	if err != nil {
		t.Fatalf("DescribeInstanceAttribute %s: %v", name, err)
	}
	switch name {
	case types.InstanceAttributeNameDisableApiTermination:
		return map[bool]string{true: "true", false: "false"}[aws.ToBool(out.DisableApiTermination.Value)]
	default:
		return aws.ToString(out.InstanceInitiatedShutdownBehavior.Value)
	}
}

// assertIsolated: every ENI is in group iso, in none of its old groups,
// and iso has no rule either way.
func (hw *hostWorld) assertIsolated(t *testing.T, ctx context.Context, iso string, enis []string) {
	t.Helper()
	if iso == "" {
		t.Fatalf("no isolation_group_id output")
	}
	got, err := hw.check.ENIsInGroup(ctx, iso)
	want := append([]string(nil), enis...)
	sort.Strings(want)
	if err != nil || !equalStrings(got, want) {
		t.Errorf("ENIs in the isolation group: got %v (err %v), want %v", got, err, want)
	}
	for _, g := range []string{hw.w.WebGroupID, hw.w.AdminGroupID, hw.w.DBGroupID} {
		if got, _ := hw.check.ENIsInGroup(ctx, g); len(got) != 0 {
			t.Errorf("ENIs still in original group %s: %v", g, got)
		}
	}
	sg := hw.group(t, ctx, iso)
	if len(sg.IpPermissions) != 0 || len(sg.IpPermissionsEgress) != 0 {
		t.Errorf("isolation group rules: got %d ingress, %d egress, want none", len(sg.IpPermissions), len(sg.IpPermissionsEgress))
	}
}

func (hw *hostWorld) group(t *testing.T, ctx context.Context, id string) types.SecurityGroup {
	t.Helper()
	out, err := hw.check.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil || len(out.SecurityGroups) != 1 {
		t.Fatalf("DescribeSecurityGroups %s: %v", id, err)
	}
	return out.SecurityGroups[0]
}

func (hw *hostWorld) assertOutOfTraffic(t *testing.T, ctx context.Context) {
	t.Helper()
	asgi, err := hw.check.AutoScaling.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{hw.w.InstanceID}})
	if err != nil || len(asgi.AutoScalingInstances) != 0 {
		t.Errorf("ASG membership after isolate: got %+v (err %v), want none", asgi.AutoScalingInstances, err)
	}
	groups, err := hw.check.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{hw.w.ASGName}})
	if err != nil || aws.ToInt32(groups.AutoScalingGroups[0].DesiredCapacity) != 0 || len(groups.AutoScalingGroups[0].Instances) != 0 {
		t.Errorf("ASG after detach: got %+v (err %v), want desired 0 and no instance (no replacement launched)", groups.AutoScalingGroups, err)
	}
	th, err := hw.check.ELBv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(hw.w.TargetGroupARN)})
	if err != nil || len(th.TargetHealthDescriptions) != 0 {
		t.Errorf("target group after isolate: got %+v (err %v), want no target", th.TargetHealthDescriptions, err)
	}
	lbs, err := hw.check.ELB.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{hw.w.ClassicELBName}})
	if err != nil || len(lbs.LoadBalancerDescriptions[0].Instances) != 0 {
		t.Errorf("classic ELB after isolate: got %+v (err %v), want no instance", lbs, err)
	}
}

func (hw *hostWorld) assertRevoked(t *testing.T, ctx context.Context) {
	t.Helper()
	p, err := hw.check.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(hw.w.RoleName), PolicyName: aws.String(revokePolicyName)})
	if err != nil {
		t.Fatalf("GetRolePolicy %s: %v", revokePolicyName, err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(p.PolicyDocument))
	var d struct {
		Statement []struct {
			Effect    string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil || len(d.Statement) != 1 {
		t.Fatalf("revoke policy: %v in %s", err, doc)
	}
	s := d.Statement[0]
	if s.Effect != "Deny" || s.Condition["DateLessThan"]["aws:TokenIssueTime"] != isolateNow.Format(time.RFC3339) {
		t.Errorf("revoke policy: got %s, want Deny with DateLessThan aws:TokenIssueTime %s", doc, isolateNow.Format(time.RFC3339))
	}
}

func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func equalStrings(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, ",") == strings.Join(b, ",")
}

func rootDevice(inst types.Instance) string { return aws.ToString(inst.RootDeviceName) }
