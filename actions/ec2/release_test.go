package ec2

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestReleaseUndoesIsolate isolates the fixture host (with NACL entries),
// releases it, from the prev tags or from isolate's previous_state
// output, and reads the original state back through the SDK.
func TestReleaseUndoesIsolate(t *testing.T) {
	for _, fromOutput := range []bool{false, true} {
		name := map[bool]string{false: "from tags", true: "from previous_state"}[fromOutput]
		t.Run(name, func(t *testing.T) {
			hw := newHostWorld(t)
			ctx := testenv.Context(t)
			w := hw.w
			iso, _, err := hostRun(ctx, hw.isolateAction(), "cr-rel", "isolate", engine.Params{"instance_id": w.InstanceID, "nacl": true, "revoke_sessions": true})
			if err != nil {
				t.Fatalf("isolate: %v", err)
			}
			p := engine.Params{"instance_id": w.InstanceID}
			if fromOutput {
				p["previous_state"] = iso["previous_state"]
			}
			rel := &release{apis: clientAPIs(hw.clients), region: hw.clients.Region}
			out, _, err := hostRun(ctx, rel, "cr-rel-release", "release", p)
			if err != nil {
				t.Fatalf("release: %v\nsubsteps: %v", err, out["substeps"])
			}
			for eni, groups := range w.GroupsByENI {
				for _, g := range groups {
					if got, _ := hw.check.ENIsInGroup(ctx, g); !contains(got, eni) {
						t.Errorf("group %s after release: holds %v, want %s back in it", g, got, eni)
					}
				}
			}
			for _, g := range []string{iso["isolation_group_id"].(string), iso["conversion_group_id"].(string)} {
				if got, _ := hw.check.ENIsInGroup(ctx, g); len(got) != 0 {
					t.Errorf("firebreak group %s after release: still holds %v", g, got)
				}
			}
			if got := hw.attr(t, ctx, types.InstanceAttributeNameDisableApiTermination); got != "false" {
				t.Errorf("termination protection: got %s, want false as before", got)
			}
			if got := hw.attr(t, ctx, types.InstanceAttributeNameInstanceInitiatedShutdownBehavior); got != w.ShutdownBehavior {
				t.Errorf("shutdown behaviour: got %s, want %s as before", got, w.ShutdownBehavior)
			}
			inst := hw.instance(t, ctx)
			for _, b := range inst.BlockDeviceMappings {
				if !aws.ToBool(b.Ebs.DeleteOnTermination) {
					t.Errorf("volume %s: DeleteOnTermination false, want true as before", aws.ToString(b.Ebs.VolumeId))
				}
			}
			if inst.IamInstanceProfile == nil || aws.ToString(inst.IamInstanceProfile.Arn) != w.InstanceProfileARN {
				t.Errorf("instance profile: got %+v, want %s back", inst.IamInstanceProfile, w.InstanceProfileARN)
			}
			tags := tagMap(inst.Tags)
			if tags["firebreak:status"] != "released" {
				t.Errorf("status tag: got %q, want released", tags["firebreak:status"])
			}
			if tags["firebreak:case"] != "cr-rel" || tags["firebreak:release-case"] != "cr-rel-release" {
				t.Errorf("case tags: got firebreak:case=%q firebreak:release-case=%q; want the compromise's case kept (cr-rel) and the release's beside it (cr-rel-release)",
					tags["firebreak:case"], tags["firebreak:release-case"])
			}
			for k := range tags {
				if strings.HasPrefix(k, "firebreak:prev:") {
					t.Errorf("tag %s left on the released instance", k)
				}
			}
			acls, err := hw.check.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
				{Name: aws.String("vpc-id"), Values: []string{w.VPCID}}}})
			if err != nil {
				t.Fatalf("DescribeNetworkAcls: %v", err)
			}
			for _, acl := range acls.NetworkAcls {
				for _, e := range acl.Entries {
					if aws.ToString(e.CidrBlock) == w.PrivateIP+"/32" {
						t.Errorf("ACL %s entry %d for the host left after release", aws.ToString(acl.NetworkAclId), aws.ToInt32(e.RuleNumber))
					}
				}
			}
			if nr := out["not_restored"].([]any); len(nr) != 1 || !strings.Contains(nr[0].(string), revokePolicyName) {
				t.Errorf("not_restored: got %v, want only the revoke policy", nr)
			}
			hw.assertBackInTraffic(t, ctx)
		})
	}
}

func TestReleaseWithoutRecordedStateChangesNothing(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	rel := &release{apis: clientAPIs(hw.clients), region: hw.clients.Region}
	_, ev, err := hostRun(ctx, rel, "cr-rel", "release", engine.Params{"instance_id": hw.w.InstanceID})
	if err == nil || !strings.Contains(err.Error(), "carries no pre-isolation state") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("error: got %v, want one saying there is no recorded state and nothing changed", err)
	}
	if n := len(ev.EventsNamed("aws-change")); n != 0 {
		t.Errorf("custody: %d changes recorded, want none", n)
	}
	_, _, err = hostRun(ctx, rel, "cr-rel", "release", engine.Params{"instance_id": hw.w.InstanceID, "previous_state": map[string]any{"instance_id": "i-0other"}})
	if err == nil || !strings.Contains(err.Error(), `previous_state is of instance "i-0other"`) {
		t.Errorf("error for another instance's state: got %v", err)
	}
	_, _, err = hostRun(ctx, rel, "cr-rel", "release", engine.Params{"instance_id": hw.w.InstanceID, "previous_state": map[string]any{"instance_id": 5, "groups": "x"}})
	if err == nil || !strings.Contains(err.Error(), "previous_state is not the isolate step's previous_state output") {
		t.Errorf("error for a malformed state: got %v", err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// assertBackInTraffic: the instance is in its Auto Scaling group (desired
// back at 1), its target group and its classic ELB again.
func (hw *hostWorld) assertBackInTraffic(t *testing.T, ctx context.Context) {
	t.Helper()
	w := hw.w
	groups, err := hw.check.AutoScaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{w.ASGName}})
	if err != nil || len(groups.AutoScalingGroups[0].Instances) != 1 || aws.ToString(groups.AutoScalingGroups[0].Instances[0].InstanceId) != w.InstanceID ||
		aws.ToInt32(groups.AutoScalingGroups[0].DesiredCapacity) != 1 {
		t.Errorf("ASG after release: err %v, got %+v, want the instance back and desired 1", err, groups)
	}
	th, err := hw.check.ELBv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.TargetGroupARN)})
	if err != nil || len(th.TargetHealthDescriptions) != 1 || aws.ToString(th.TargetHealthDescriptions[0].Target.Id) != w.InstanceID {
		t.Errorf("target group after release: got %+v (err %v), want the instance", th, err)
	}
	lbs, err := hw.check.ELB.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{w.ClassicELBName}})
	if err != nil || len(lbs.LoadBalancerDescriptions[0].Instances) != 1 {
		t.Errorf("classic ELB after release: got %+v (err %v), want the instance", lbs, err)
	}
}

func TestReleasePlanShowsTheRecordedState(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	rel := &release{apis: clientAPIs(hw.clients), region: hw.clients.Region}
	d, err := rel.Plan(ctx, &engine.PlanInput{Check: true, Params: engine.Params{"instance_id": hw.w.InstanceID}})
	if err != nil || len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "carries no pre-isolation state") {
		t.Fatalf("plan before any isolation: got %+v, %v; want the missing state as a problem", d, err)
	}
	if _, _, err := hostRun(ctx, hw.isolateAction(), "cr-rp", "isolate", engine.Params{"instance_id": hw.w.InstanceID, "revoke_sessions": false}); err != nil {
		t.Fatalf("isolate: %v", err)
	}
	d, err = rel.Plan(ctx, &engine.PlanInput{Check: true, Params: engine.Params{"instance_id": hw.w.InstanceID}})
	if err != nil || len(d.Problems) != 0 {
		t.Fatalf("plan: %+v, %v", d, err)
	}
	all := strings.Join(d.Calls, "\n")
	for _, want := range []string{hw.w.PrimaryENI, hw.w.WebGroupID, "InstanceInitiatedShutdownBehavior=terminate", hw.w.ASGName, "fb-tg-" + hw.w.Suffix, hw.w.ClassicELBName} {
		if !strings.Contains(all, want) {
			t.Errorf("plan does not name %s:\n%s", want, all)
		}
	}
	if got := hw.attr(t, ctx, types.InstanceAttributeNameDisableApiTermination); got != "true" {
		t.Errorf("termination protection after the plan: got %s, want still true (plan changes nothing)", got)
	}
}
