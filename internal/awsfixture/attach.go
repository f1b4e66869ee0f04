package awsfixture

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// buildASG makes an empty group (desired 0) and attaches the instance, as a
// responder finds a hand-added host: AttachInstances raises desired to 1,
// so detaching without decrementing would make the group launch a
// replacement.
func (w *World) buildASG(ctx context.Context, c *Clients) error {
	lt, err := c.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(w.name("fb-fixture-web")),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(w.AMIID), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	if err != nil {
		return err
	}
	w.ASGName = w.name("fb-fixture-web")
	if _, err := c.AutoScaling.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(w.ASGName),
		LaunchTemplate:       &asgtypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("$Latest")},
		MinSize:              aws.Int32(0), MaxSize: aws.Int32(3), DesiredCapacity: aws.Int32(0),
		VPCZoneIdentifier: aws.String(w.SubnetIDs[0]),
	}); err != nil {
		return err
	}
	_, err = c.AutoScaling.AttachInstances(ctx, &autoscaling.AttachInstancesInput{
		AutoScalingGroupName: aws.String(w.ASGName), InstanceIds: []string{w.InstanceID},
	})
	return err
}

func (w *World) buildLoadBalancers(ctx context.Context, c *Clients) error {
	lb, err := c.ELBv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(w.name("fb-alb")), Subnets: w.SubnetIDs, SecurityGroups: []string{w.WebGroupID},
		Scheme: elbv2types.LoadBalancerSchemeEnumInternal,
	})
	if err != nil {
		return err
	}
	w.LoadBalancerARN = *lb.LoadBalancers[0].LoadBalancerArn
	tg, err := c.ELBv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(w.name("fb-tg")), Protocol: elbv2types.ProtocolEnumHttps, Port: aws.Int32(443),
		VpcId: aws.String(w.VPCID), TargetType: elbv2types.TargetTypeEnumInstance,
	})
	if err != nil {
		return err
	}
	w.TargetGroupARN = *tg.TargetGroups[0].TargetGroupArn
	if _, err := c.ELBv2.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbv2types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: aws.String(w.TargetGroupARN)}},
	}); err != nil {
		return err
	}
	if _, err := c.ELBv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{
		TargetGroupArn: aws.String(w.TargetGroupARN), Targets: []elbv2types.TargetDescription{{Id: aws.String(w.InstanceID)}},
	}); err != nil {
		return err
	}
	return w.buildClassicELB(ctx, c)
}

func (w *World) buildClassicELB(ctx context.Context, c *Clients) error {
	name := w.name("fb-clb")
	if _, err := c.ELB.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		LoadBalancerName: aws.String(name), Subnets: []string{w.SubnetIDs[0]}, SecurityGroups: []string{w.WebGroupID},
		Scheme:    aws.String("internal"),
		Listeners: []elbtypes.Listener{{Protocol: aws.String("TCP"), LoadBalancerPort: 443, InstanceProtocol: aws.String("TCP"), InstancePort: aws.Int32(443)}},
	}); err != nil {
		return err
	}
	if _, err := c.ELB.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
		LoadBalancerName: aws.String(name), Instances: []elbtypes.Instance{{InstanceId: aws.String(w.InstanceID)}},
	}); err != nil {
		return err
	}
	w.ClassicELBName = name
	return nil
}
