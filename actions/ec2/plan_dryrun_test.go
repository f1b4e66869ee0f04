package ec2

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/firebreak-ir/firebreak/engine"
)

// ignoresDryRun is an endpoint that executes DryRun calls: they answer
// with no error.
type ignoresDryRun struct {
	snapshotAPI
	terminateAPI
	executed []string
}

func (f *ignoresDryRun) DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	return &ec2.DescribeSnapshotsOutput{}, nil
}

func (f *ignoresDryRun) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return &ec2.DescribeInstancesOutput{Reservations: []types.Reservation{{Instances: []types.Instance{{InstanceId: aws.String("i-1"),
		State:               &types.InstanceState{Name: types.InstanceStateNameRunning},
		BlockDeviceMappings: []types.InstanceBlockDeviceMapping{{Ebs: &types.EbsInstanceBlockDevice{VolumeId: aws.String("vol-1")}}}}}}}}, nil
}

func (f *ignoresDryRun) CreateSnapshots(context.Context, *ec2.CreateSnapshotsInput, ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error) {
	f.executed = append(f.executed, "CreateSnapshots")
	return &ec2.CreateSnapshotsOutput{}, nil
}

func (f *ignoresDryRun) StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	f.executed = append(f.executed, "StopInstances")
	return &ec2.StopInstancesOutput{}, nil
}

func TestDryRunAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"DryRunOperation: allowed", &smithy.GenericAPIError{Code: "DryRunOperation"}, ""},
		{"UnauthorizedOperation: denied", &smithy.GenericAPIError{Code: "UnauthorizedOperation"}, "ec2:X is not allowed for this identity: grant it (see firebreak iam-policy)"},
		{"no error: executed", nil, "ec2:X: the endpoint ignored DryRun: the call was executed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dryRunProblem("ec2:X", tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPlanReportsAnIgnoredDryRun: snapshot and terminate plans read a
// DryRun call that succeeded as executed, not as allowed.
func TestPlanReportsAnIgnoredDryRun(t *testing.T) {
	t.Parallel()
	f := &ignoresDryRun{}
	snap := &snapshot{api: func(string) snapshotAPI { return f }}
	term := &terminate{api: func(string) terminateAPI { return f }}
	params := engine.Params{"instance_id": "i-1", "mode": "stop"}
	for _, p := range []engine.Planner{snap, term} {
		d, err := p.Plan(context.Background(), &engine.PlanInput{Check: true, Params: params})
		if err != nil || len(d.Problems) != 1 || !strings.HasSuffix(d.Problems[0], "the endpoint ignored DryRun: the call was executed") {
			t.Errorf("%T plan: got %+v (err %v), want the ignored DryRun reported", p, d, err)
		}
	}
	if len(f.executed) != 2 {
		t.Errorf("dry-run calls made: %v", f.executed)
	}
}
