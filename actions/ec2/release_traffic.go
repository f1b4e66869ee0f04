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

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// rejoinASG attaches the instance to the group it was detached from, unless
// it is in it already. The group's desired capacity goes up by one, which
// undoes the decrement of the detach.
func rejoinASG(ctx context.Context, api isolateASG, ev engine.Evidence, id, group string) error {
	cur, err := api.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return fmt.Errorf("looking for the Auto Scaling group of %q: %w", id, awsapi.Classify(err))
	}
	for _, a := range cur.AutoScalingInstances {
		if aws.ToString(a.AutoScalingGroupName) == group {
			return nil
		}
	}
	if _, err := api.AttachInstances(ctx, &autoscaling.AttachInstancesInput{AutoScalingGroupName: aws.String(group), InstanceIds: []string{id}}); err != nil {
		return fmt.Errorf("attaching %q to Auto Scaling group %q (if the group is at its maximum size, raise MaxSize and run again): %w", id, group, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, ev, "autoscaling:AttachInstances", map[string]any{"instance_id": id, "group": group})
}

// rejoinLoadBalancers registers the instance again where isolate took it
// out. Registering a registered target changes nothing, so a rerun is safe.
func rejoinLoadBalancers(ctx context.Context, apis hostAPIs, ev engine.Evidence, id string, tgs []targetRef, elbs []string) error {
	for _, tg := range tgs {
		arn, err := targetGroupARN(ctx, apis.elbv2, tg)
		if err != nil {
			return err
		}
		t := instanceTarget(id, tg.Port)
		if _, err := apis.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: []elbv2types.TargetDescription{t}}); err != nil {
			return fmt.Errorf("registering %q with target group %q: %w", id, arn, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, ev, "elasticloadbalancing:RegisterTargets", map[string]any{"instance_id": id, "target_group": arn, "port": tg.Port}); err != nil {
			return err
		}
	}
	for _, name := range elbs {
		if _, err := apis.elb.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
			LoadBalancerName: aws.String(name), Instances: []elbtypes.Instance{{InstanceId: aws.String(id)}},
		}); err != nil {
			return fmt.Errorf("registering %q with classic load balancer %q: %w", id, name, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, ev, "elasticloadbalancing:RegisterInstancesWithLoadBalancer", map[string]any{"instance_id": id, "load_balancer": name}); err != nil {
			return err
		}
	}
	return nil
}

// targetGroupARN resolves a group known by name only (from a prev tag).
func targetGroupARN(ctx context.Context, api isolateELBv2, tg targetRef) (string, error) {
	if tg.ARN != "" {
		return tg.ARN, nil
	}
	out, err := api.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{tg.Name}})
	if err != nil {
		return "", fmt.Errorf("finding target group %q: %w", tg.Name, awsapi.Classify(err))
	}
	if len(out.TargetGroups) != 1 {
		return "", fmt.Errorf("target group %q: found %d, want 1: register the instance by hand", tg.Name, len(out.TargetGroups))
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn), nil
}
