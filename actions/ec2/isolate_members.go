package ec2

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// membership is where the instance serves traffic now.
type membership struct {
	asg          string
	targetGroups []targetRef
	classicELBs  []string
}

// findMembership looks, without changing anything, for the instance's Auto
// Scaling group, ELBv2 target registrations and classic ELBs.
func findMembership(ctx context.Context, apis hostAPIs, id, vpc string) (membership, error) {
	var m membership
	asg, err := apis.asg.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return m, fmt.Errorf("looking for the Auto Scaling group of %q: %w", id, awsapi.Classify(err))
	}
	for _, a := range asg.AutoScalingInstances {
		m.asg = aws.ToString(a.AutoScalingGroupName)
	}
	arns, err := candidateTargetGroups(ctx, apis, m.asg, vpc)
	if err != nil {
		return m, err
	}
	if m.targetGroups, err = findTargets(ctx, apis.elbv2, id, arns); err != nil {
		return m, err
	}
	m.classicELBs, err = findClassicELBs(ctx, apis.elb, id, vpc)
	return m, err
}

// candidateTargetGroups are the target groups that may hold the instance:
// its Auto Scaling group's when it has any (no region-wide listing on the
// containment path), else every instance-type target group of the VPC.
func candidateTargetGroups(ctx context.Context, apis hostAPIs, asg, vpc string) ([]string, error) {
	if asg != "" {
		out, err := apis.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{asg}})
		if err != nil {
			return nil, fmt.Errorf("reading Auto Scaling group %q: %w", asg, awsapi.Classify(err))
		}
		for _, g := range out.AutoScalingGroups {
			if len(g.TargetGroupARNs) > 0 {
				return g.TargetGroupARNs, nil
			}
		}
	}
	var arns []string
	p := elbv2.NewDescribeTargetGroupsPaginator(apis.elbv2, &elbv2.DescribeTargetGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing target groups: %w", awsapi.Classify(err))
		}
		for _, tg := range page.TargetGroups {
			if aws.ToString(tg.VpcId) == vpc && tg.TargetType == elbv2types.TargetTypeEnumInstance {
				arns = append(arns, aws.ToString(tg.TargetGroupArn))
			}
		}
	}
	return arns, nil
}

// findTargets asks each target group about the instance alone, at most
// eight at a time, and returns its registrations in the order of arns.
func findTargets(ctx context.Context, api isolateELBv2, id string, arns []string) ([]targetRef, error) {
	found := make([][]targetRef, len(arns))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, arn := range arns {
		g.Go(func() error {
			th, err := api.DescribeTargetHealth(gctx, &elbv2.DescribeTargetHealthInput{
				TargetGroupArn: aws.String(arn), Targets: []elbv2types.TargetDescription{{Id: aws.String(id)}},
			})
			if err != nil {
				return fmt.Errorf("reading targets of %q: %w", arn, awsapi.Classify(err))
			}
			for _, d := range th.TargetHealthDescriptions {
				if registered(d, id) {
					found[i] = append(found[i], targetRef{ARN: arn, Port: aws.ToInt32(d.Target.Port)})
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var refs []targetRef
	for _, f := range found {
		refs = append(refs, f...)
	}
	return refs, nil
}

// registered: asked about one target, ELB answers for it even when it is
// not in the group, with reason Target.NotRegistered.
func registered(d elbv2types.TargetHealthDescription, id string) bool {
	if d.Target == nil || aws.ToString(d.Target.Id) != id {
		return false
	}
	return d.TargetHealth == nil || d.TargetHealth.Reason != elbv2types.TargetHealthReasonEnumNotRegistered
}

func findClassicELBs(ctx context.Context, api isolateELB, id, vpc string) ([]string, error) {
	var names []string
	p := elb.NewDescribeLoadBalancersPaginator(api, &elb.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing classic load balancers: %w", awsapi.Classify(err))
		}
		for _, lb := range page.LoadBalancerDescriptions {
			for _, in := range lb.Instances {
				if aws.ToString(in.InstanceId) == id {
					names = append(names, aws.ToString(lb.LoadBalancerName))
				}
			}
		}
	}
	return names, nil
}

// detachASG takes the instance out of its group, so that no health check
// or scale-in of the group can terminate the isolated host. Scale-in
// protection comes first, so that if the detach fails the group still will
// not pick this instance to terminate. The detach decrements the desired
// capacity, so the group does not launch a replacement for a host that is
// only quarantined; when that would take the group below its minimum size
// (AWS refuses with a ValidationError), it detaches without decrementing
// and the group launches a replacement, which keeps the service at its
// minimum and leaves the detached host alone either way.
func detachASG(ctx context.Context, api isolateASG, ev engine.Evidence, id, group string) error {
	if _, err := api.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{
		AutoScalingGroupName: aws.String(group), InstanceIds: []string{id}, ProtectedFromScaleIn: aws.Bool(true),
	}); err != nil {
		return fmt.Errorf("protecting %q from scale-in in %q: %w", id, group, awsapi.Classify(err))
	}
	if err := awsapi.Change(ctx, ev, "autoscaling:SetInstanceProtection", map[string]any{"instance_id": id, "group": group}); err != nil {
		return err
	}
	decrement := true
	_, err := api.DetachInstances(ctx, &autoscaling.DetachInstancesInput{
		AutoScalingGroupName: aws.String(group), InstanceIds: []string{id}, ShouldDecrementDesiredCapacity: aws.Bool(true),
	})
	if awsapi.Code(err) == "ValidationError" {
		decrement = false
		_, err = api.DetachInstances(ctx, &autoscaling.DetachInstancesInput{
			AutoScalingGroupName: aws.String(group), InstanceIds: []string{id}, ShouldDecrementDesiredCapacity: aws.Bool(false),
		})
	}
	if err != nil {
		return fmt.Errorf("detaching %q from Auto Scaling group %q: %w", id, group, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, ev, "autoscaling:DetachInstances", map[string]any{"instance_id": id, "group": group, "decrement_desired_capacity": decrement})
}

// deregistered reports whether a DeregisterTargets that failed with
// InvalidTarget left the instance out of the group anyway: the SDK's own
// retry of a call whose answer was lost after ELB acted on it finds the
// target gone.
func deregistered(ctx context.Context, api isolateELBv2, arn, id string, err error) bool {
	if awsapi.Code(err) != "InvalidTarget" {
		return false
	}
	th, herr := api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if herr != nil {
		return false
	}
	for _, d := range th.TargetHealthDescriptions {
		if d.Target != nil && aws.ToString(d.Target.Id) == id {
			return false
		}
	}
	return true
}

// deregister takes the instance out of every target group and classic ELB.
func deregister(ctx context.Context, apis hostAPIs, ev engine.Evidence, id string, m membership) error {
	for _, tg := range m.targetGroups {
		t := instanceTarget(id, tg.Port)
		if _, err := apis.elbv2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg.ARN), Targets: []elbv2types.TargetDescription{t}}); err != nil && !deregistered(ctx, apis.elbv2, tg.ARN, id, err) {
			return fmt.Errorf("deregistering %q from %q: %w", id, tg.ARN, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, ev, "elasticloadbalancing:DeregisterTargets", map[string]any{"instance_id": id, "target_group": tg.ARN, "port": tg.Port}); err != nil {
			return err
		}
	}
	for _, name := range m.classicELBs {
		if _, err := apis.elb.DeregisterInstancesFromLoadBalancer(ctx, &elb.DeregisterInstancesFromLoadBalancerInput{
			LoadBalancerName: aws.String(name), Instances: []elbtypes.Instance{{InstanceId: aws.String(id)}},
		}); err != nil {
			return fmt.Errorf("deregistering %q from classic load balancer %q: %w", id, name, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, ev, "elasticloadbalancing:DeregisterInstancesFromLoadBalancer", map[string]any{"instance_id": id, "load_balancer": name}); err != nil {
			return err
		}
	}
	return nil
}

// instanceTarget is the instance as a target of a group: with its port when
// it was registered on one (isolate records it, release registers it back).
func instanceTarget(id string, port int32) elbv2types.TargetDescription {
	t := elbv2types.TargetDescription{Id: aws.String(id)}
	if port != 0 {
		t.Port = aws.Int32(port)
	}
	return t
}
