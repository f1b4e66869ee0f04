package ec2

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// manyTGs is a region with 40 instance target groups; the instance is in
// tg-7 and tg-31. It answers DescribeTargetHealth as ELB does for a
// target it was asked about (NotRegistered when absent), counts what it
// was asked and how many calls were in flight at once.
type manyTGs struct {
	isolateELBv2
	mu             sync.Mutex
	listed         int
	unfiltered     int
	inFlight, peak int
	healthCalls    int
}

func (f *manyTGs) DescribeTargetGroups(_ context.Context, in *elbv2.DescribeTargetGroupsInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error) {
	f.mu.Lock()
	f.listed++
	f.mu.Unlock()
	var out elbv2.DescribeTargetGroupsOutput
	for i := range 40 {
		out.TargetGroups = append(out.TargetGroups, elbv2types.TargetGroup{TargetGroupArn: aws.String(fmt.Sprintf("tg-%d", i)),
			VpcId: aws.String("vpc-1"), TargetType: elbv2types.TargetTypeEnumInstance})
	}
	return &out, nil
}

func (f *manyTGs) DescribeTargetHealth(_ context.Context, in *elbv2.DescribeTargetHealthInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	f.mu.Lock()
	f.healthCalls++
	f.inFlight++
	f.peak = max(f.peak, f.inFlight)
	if len(in.Targets) != 1 {
		f.unfiltered++
	}
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
	arn := aws.ToString(in.TargetGroupArn)
	h := &elbv2types.TargetHealth{State: elbv2types.TargetHealthStateEnumUnused, Reason: elbv2types.TargetHealthReasonEnumNotRegistered}
	if arn == "tg-7" || arn == "tg-31" {
		h = &elbv2types.TargetHealth{State: elbv2types.TargetHealthStateEnumHealthy}
	}
	return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: []elbv2types.TargetHealthDescription{
		{Target: &elbv2types.TargetDescription{Id: aws.String("i-1"), Port: aws.Int32(443)}, TargetHealth: h}}}, nil
}

type asgWithTGs struct {
	isolateASG
	tgs []string
}

func (f asgWithTGs) DescribeAutoScalingInstances(context.Context, *autoscaling.DescribeAutoScalingInstancesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error) {
	if f.tgs == nil {
		return &autoscaling.DescribeAutoScalingInstancesOutput{}, nil
	}
	return &autoscaling.DescribeAutoScalingInstancesOutput{AutoScalingInstances: []asgtypes.AutoScalingInstanceDetails{{AutoScalingGroupName: aws.String("web")}}}, nil
}

func (f asgWithTGs) DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: []asgtypes.AutoScalingGroup{{TargetGroupARNs: f.tgs}}}, nil
}

// TestFindTargetsAsksAboutTheInstanceOnly: every DescribeTargetHealth names
// the instance, at most eight run at once, the answer keeps the order of
// the groups, and an Auto Scaling group's target groups spare the listing.
func TestFindTargetsAsksAboutTheInstanceOnly(t *testing.T) {
	tests := []struct {
		name       string
		asgTGs     []string
		wantListed int
		wantCalls  int
	}{
		{"no Auto Scaling group: every target group of the VPC", nil, 1, 40},
		{"the Auto Scaling group's target groups", []string{"tg-7", "tg-31"}, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &manyTGs{}
			apis := hostAPIs{elbv2: f, asg: asgWithTGs{tgs: tt.asgTGs}}
			asg := ""
			if tt.asgTGs != nil {
				asg = "web"
			}
			arns, err := candidateTargetGroups(context.Background(), apis, asg, "vpc-1")
			if err != nil {
				t.Fatal(err)
			}
			refs, err := findTargets(context.Background(), f, "i-1", arns)
			if err != nil {
				t.Fatal(err)
			}
			want := []targetRef{{ARN: "tg-7", Port: 443}, {ARN: "tg-31", Port: 443}}
			if fmt.Sprint(refs) != fmt.Sprint(want) {
				t.Errorf("registrations: got %v, want %v", refs, want)
			}
			if f.listed != tt.wantListed || f.healthCalls != tt.wantCalls || f.unfiltered != 0 || f.peak > 8 {
				t.Errorf("calls: listed %d, health %d (%d without the target), peak in flight %d; want listed %d, health %d, 0, <= 8",
					f.listed, f.healthCalls, f.unfiltered, f.peak, tt.wantListed, tt.wantCalls)
			}
		})
	}
}
