package awsfixture

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestBuildMakesTheWorld reads the world back through the SDK: what the
// actions' tests rely on must really be there.
func TestBuildMakesTheWorld(t *testing.T) {
	m := testenv.StartMoto(t)
	ctx := testenv.Context(t)
	w, err := Build(ctx, m.Config())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	c := NewClients(m.Config())

	out, err := c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.InstanceID}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	in := out.Reservations[0].Instances[0]
	if got := len(in.NetworkInterfaces); got != 2 {
		t.Errorf("ENIs: got %d, want 2", got)
	}
	if in.IamInstanceProfile == nil || aws.ToString(in.IamInstanceProfile.Arn) != w.InstanceProfileARN {
		t.Errorf("instance profile: got %+v, want %q", in.IamInstanceProfile, w.InstanceProfileARN)
	}
	for _, b := range in.BlockDeviceMappings {
		if !aws.ToBool(b.Ebs.DeleteOnTermination) {
			t.Errorf("volume %s: DeleteOnTermination false, want true (isolate must have something to change)", aws.ToString(b.Ebs.VolumeId))
		}
	}
	sb, err := c.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(w.InstanceID), Attribute: "instanceInitiatedShutdownBehavior"})
	if err != nil || aws.ToString(sb.InstanceInitiatedShutdownBehavior.Value) != w.ShutdownBehavior {
		t.Errorf("shutdown behaviour: got %+v (err %v), want %q", sb, err, w.ShutdownBehavior)
	}
	if w.PrivateIP == "" {
		t.Errorf("no private IP")
	}
	for group, want := range map[string]string{w.WebGroupID: w.PrimaryENI, w.AdminGroupID: w.PrimaryENI, w.DBGroupID: w.SecondaryENI} {
		got, err := c.ENIsInGroup(ctx, group)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("ENIs in group %s: got %v (err %v), want [%s]", group, got, err, want)
		}
	}

	for i, subnet := range w.SubnetIDs {
		acls, err := c.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{
			{Name: aws.String("association.subnet-id"), Values: []string{subnet}}}})
		if err != nil || len(acls.NetworkAcls) != 1 || aws.ToString(acls.NetworkAcls[0].NetworkAclId) != w.NetworkACLIDs[i] {
			t.Errorf("ACL of subnet %d: got %+v (err %v), want %s", i, acls, err, w.NetworkACLIDs[i])
		}
	}

	asg, err := c.AutoScaling.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{w.InstanceID}})
	if err != nil || len(asg.AutoScalingInstances) != 1 || aws.ToString(asg.AutoScalingInstances[0].AutoScalingGroupName) != w.ASGName {
		t.Errorf("ASG membership: got %+v (err %v), want %q", asg, err, w.ASGName)
	}
	th, err := c.ELBv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.TargetGroupARN)})
	if err != nil || len(th.TargetHealthDescriptions) != 1 || aws.ToString(th.TargetHealthDescriptions[0].Target.Id) != w.InstanceID {
		t.Errorf("target group: got %+v (err %v), want %s registered", th, err, w.InstanceID)
	}
	lbs, err := c.ELB.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{w.ClassicELBName}})
	if err != nil || len(lbs.LoadBalancerDescriptions) != 1 || len(lbs.LoadBalancerDescriptions[0].Instances) != 1 {
		t.Errorf("classic ELB: got %+v (err %v), want the instance registered", lbs, err)
	}

	// A second world on the same server must not collide with the first.
	if _, err := Build(ctx, m.Config()); err != nil {
		t.Fatalf("second Build on one server: %v", err)
	}
}
