package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
)

// hostCompromise times host-compromise behind o.Latency a call on the
// fixture's instance (2 ENIs, 2 volumes, an Auto Scaling group, an ALB
// target group and a classic ELB):
//   - time to isolation, the moment the last ENI's move into the isolation
//     group returns (the end of the last ModifyNetworkInterfaceAttribute the
//     proxy saw), against the floor of isolate's own dependent chain of calls
//     (those calls made one after another through the same proxy, timed);
//   - time to isolation and makespan against the previous order
//     (collect-metadata before isolate), on a second world of the same shape;
//   - then the makespan under 20% throttling, as firebreak ships (the rate
//     limiter) and in the previous default (the SDK's adaptive retry mode),
//     against the unthrottled makespan.
func hostCompromise(ctx context.Context, o Options) ([]Row, error) {
	e, err := startAWS(ctx, 1)
	if err != nil {
		return nil, err
	}
	defer e.close()
	other, err := awsfixture.Build(ctx, sdkConfig(e.moto.URL, direct, 0))
	if err != nil {
		return nil, err
	}
	e.proxy.SetRules(faultproxy.Rule{Latency: o.Latency})
	// The previous order first, on the second world, then isolation first.
	old, err := e.isolationRun(ctx, o, true, other.InstanceID)
	if err != nil {
		return nil, err
	}
	now, err := e.isolationRun(ctx, o, false, e.world.InstanceID)
	if err != nil {
		return nil, err
	}
	floor, err := e.chainFloor(ctx, e.world)
	if err != nil {
		return nil, err
	}
	note := fmt.Sprintf("%d calls, %v each", now.calls, o.Latency)
	rows := []Row{
		row("host/time-to-isolation", now.toIsolation.Seconds(), "s", floor.Seconds(), "isolate's dependent chain of calls, made one after another", note),
		row("host/time-to-isolation-vs-collect-first", now.toIsolation.Seconds(), "s", old.toIsolation.Seconds(), "collect-metadata before isolate", note),
		row("host/makespan", now.makespan.Seconds(), "s", old.makespan.Seconds(), "collect-metadata before isolate", note),
	}
	// The throttled runs contain launched instances (one ENI, two volumes,
	// no load balancer): their baseline is such an instance unthrottled.
	ids, err := e.launch(ctx, 3)
	if err != nil {
		return nil, err
	}
	res, _, err := e.timedRun(ctx, sdkConfig(e.proxy.URL, shipped, o.APIRate), ids[0])
	if err != nil {
		return nil, err
	}
	calm := res.FinishedAt.Sub(res.StartedAt).Seconds()
	for i, mode := range []string{shipped, adaptive} {
		e.proxy.SetRules(faultproxy.Rule{Latency: o.Latency, Throttle: 0.20})
		res, calls, err := e.timedRun(ctx, sdkConfig(e.proxy.URL, mode, o.APIRate), ids[i+1])
		e.proxy.SetRules(faultproxy.Rule{Latency: o.Latency})
		if err != nil {
			return nil, err
		}
		rows = append(rows, row("host/makespan-20%-throttled/"+mode, res.FinishedAt.Sub(res.StartedAt).Seconds(), "s",
			calm, "unthrottled", fmt.Sprintf("%d calls, %d throttled", len(calls), count(calls, faultproxy.Throttle))))
	}
	return rows, nil
}

// isolationTimes are one run's figures.
type isolationTimes struct {
	toIsolation, makespan time.Duration
	calls                 int
}

// isolationRun contains instanceID with host-compromise (collectFirst: in
// the previous order) and reads its time to isolation from the proxy.
func (e *awsEnv) isolationRun(ctx context.Context, o Options, collectFirst bool, instanceID string) (isolationTimes, error) {
	h, err := e.hostRunnerOf(sdkConfig(e.proxy.URL, shipped, o.APIRate), collectFirst)
	if err != nil {
		return isolationTimes{}, err
	}
	e.proxy.Reset()
	res, err := h.run(ctx, instanceID)
	if err != nil {
		return isolationTimes{}, err
	}
	return figures(res, e.proxy.Calls())
}

// figures reads a run's time to isolation (from its start to the return
// of the last ENI move) and makespan.
func figures(res *runner.Result, calls []faultproxy.Call) (isolationTimes, error) {
	end, ok := lastSwapEnd(calls)
	if !ok {
		return isolationTimes{}, fmt.Errorf("the run moved no ENI")
	}
	return isolationTimes{toIsolation: end.Sub(res.StartedAt), makespan: res.FinishedAt.Sub(res.StartedAt), calls: len(calls)}, nil
}

// lastSwapEnd is when the last ModifyNetworkInterfaceAttribute (an ENI's
// move; the last of an ENI's two is the one into the isolation group)
// returned.
func lastSwapEnd(calls []faultproxy.Call) (time.Time, bool) {
	var end time.Time
	for _, c := range calls {
		if c.Operation == "ModifyNetworkInterfaceAttribute" && c.End.After(end) {
			end = c.End
		}
	}
	return end, !end.IsZero()
}

// chainFloor makes, one after another through the proxy, the calls of
// isolate's dependent chain on an instance of w's shape (Run's comment in
// actions/ec2 draws it): describe the instance; its Auto Scaling group,
// the group (which names no target group in the fixture, so isolate lists
// the target groups), the instance's target health; the prev tags;
// scale-in protection and the detach; an ENI into conversion, then into
// isolation. The answers do not matter (w is already isolated: some calls
// fail), only the time each round trip takes: no containment can be
// faster than this chain.
func (e *awsEnv) chainFloor(ctx context.Context, w *awsfixture.World) (time.Duration, error) {
	cfg := sdkConfig(e.proxy.URL, direct, 0)
	ec, asg, lb := ec2.NewFromConfig(cfg), autoscaling.NewFromConfig(cfg), elbv2.NewFromConfig(cfg)
	groups, err := e.check.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{w.VPCID}},
		{Name: aws.String("group-name"), Values: []string{"firebreak-conversion", "firebreak-isolation"}}}})
	if err != nil {
		return 0, err
	}
	byName := map[string]string{}
	for _, g := range groups.SecurityGroups {
		byName[aws.ToString(g.GroupName)] = aws.ToString(g.GroupId)
	}
	id, eni := w.InstanceID, w.PrimaryENI
	chain := []func() error{
		func() error {
			_, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
			return err
		},
		func() error {
			_, err := asg.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{id}})
			return err
		},
		func() error {
			_, err := asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{w.ASGName}})
			return err
		},
		func() error { _, err := lb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{}); return err },
		func() error {
			_, err := lb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.TargetGroupARN),
				Targets: []elbv2types.TargetDescription{{Id: aws.String(id)}}})
			return err
		},
		func() error {
			_, err := ec.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("firebreak:bench"), Value: aws.String("floor")}}})
			return err
		},
		func() error {
			_, err := asg.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: aws.String(w.ASGName),
				InstanceIds: []string{id}, ProtectedFromScaleIn: aws.Bool(true)})
			return err
		},
		func() error {
			_, err := asg.DetachInstances(ctx, &autoscaling.DetachInstancesInput{AutoScalingGroupName: aws.String(w.ASGName),
				InstanceIds: []string{id}, ShouldDecrementDesiredCapacity: aws.Bool(true)})
			return err
		},
		func() error {
			_, err := ec.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eni), Groups: []string{byName["firebreak-conversion"]}})
			return err
		},
		func() error {
			_, err := ec.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eni), Groups: []string{byName["firebreak-isolation"]}})
			return err
		},
	}
	return timeChain(ctx, chain)
}

// timeChain times calls made one after another. An error answer is a round
// trip like another; only a cancelled ctx stops it.
func timeChain(ctx context.Context, chain []func() error) (time.Duration, error) {
	start := time.Now()
	for _, call := range chain {
		_ = call()
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// timedRun runs host-compromise on one instance with a fresh process's
// clients and returns the result and the calls the proxy saw.
func (e *awsEnv) timedRun(ctx context.Context, cfg aws.Config, instanceID string) (*runner.Result, []faultproxy.Call, error) {
	h, err := e.hostRunner(cfg)
	if err != nil {
		return nil, nil, err
	}
	e.proxy.Reset()
	res, err := h.run(ctx, instanceID)
	return res, e.proxy.Calls(), err
}

func count(calls []faultproxy.Call, f faultproxy.Fault) int {
	n := 0
	for _, c := range calls {
		if c.Fault == f {
			n++
		}
	}
	return n
}
