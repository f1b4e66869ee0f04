package ec2

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
)

// fakeASG answers DetachInstances as AWS does for a group at its minimum
// size when asked to decrement (moto does not enforce the minimum).
type fakeASG struct {
	isolateASG
	atMin     bool
	protected bool
	detached  []bool // ShouldDecrementDesiredCapacity of each DetachInstances call
}

func (f *fakeASG) SetInstanceProtection(context.Context, *autoscaling.SetInstanceProtectionInput, ...func(*autoscaling.Options)) (*autoscaling.SetInstanceProtectionOutput, error) {
	f.protected = true
	return &autoscaling.SetInstanceProtectionOutput{}, nil
}

func (f *fakeASG) DetachInstances(_ context.Context, in *autoscaling.DetachInstancesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DetachInstancesOutput, error) {
	dec := aws.ToBool(in.ShouldDecrementDesiredCapacity)
	f.detached = append(f.detached, dec)
	if dec && f.atMin {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "Currently, desiredCapacity is 1 and minSize is 1. Detaching 1 instance(s) with decrement would go below minSize"}
	}
	return &autoscaling.DetachInstancesOutput{}, nil
}

func TestDetachASGAtMinimumSizeLetsTheGroupReplace(t *testing.T) {
	tests := []struct {
		name      string
		atMin     bool
		wantCalls []bool
	}{
		{"room to decrement", false, []bool{true}},
		{"at minimum size", true, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeASG{atMin: tt.atMin}
			ev := enginetest.NewEvidence()
			if err := detachASG(context.Background(), f, ev, "i-1", "web"); err != nil {
				t.Fatalf("detachASG: %v", err)
			}
			if !f.protected || len(f.detached) != len(tt.wantCalls) || f.detached[len(f.detached)-1] != tt.wantCalls[len(tt.wantCalls)-1] {
				t.Errorf("calls: protected %v, detach decrements %v, want protection then %v", f.protected, f.detached, tt.wantCalls)
			}
			ch := ev.EventsNamed("aws-change")
			if last := ch[len(ch)-1]; last["call"] != "autoscaling:DetachInstances" || last["decrement_desired_capacity"] != !tt.atMin {
				t.Errorf("custody: got %v, want the detach with decrement %v", last, !tt.atMin)
			}
		})
	}
}

// recordingEC2 records ModifyNetworkInterfaceAttribute calls.
type recordingEC2 struct {
	isolateEC2
	moves [][]string
}

func (r *recordingEC2) ModifyNetworkInterfaceAttribute(_ context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	r.moves = append(r.moves, in.Groups)
	return &ec2.ModifyNetworkInterfaceAttributeOutput{}, nil
}

func TestSwapGroupsLeavesAnIsolatedENIAlone(t *testing.T) {
	gid := func(ids ...string) []types.GroupIdentifier {
		var out []types.GroupIdentifier
		for _, id := range ids {
			out = append(out, types.GroupIdentifier{GroupId: aws.String(id)})
		}
		return out
	}
	tests := []struct {
		name    string
		current []types.GroupIdentifier
		want    int
	}{
		{"original groups", gid("sg-web", "sg-admin"), 2},
		{"already isolated", gid("sg-iso"), 0},
		{"isolated plus a group added since", gid("sg-iso", "sg-web"), 2},
		{"in the conversion group (interrupted run)", gid("sg-conv"), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recordingEC2{}
			if err := swapGroups(context.Background(), r, enginetest.NewEvidence(), "eni-1", tt.current, nil, "sg-conv", "sg-iso"); err != nil {
				t.Fatal(err)
			}
			if len(r.moves) != tt.want || (tt.want == 2 && (r.moves[0][0] != "sg-conv" || r.moves[1][0] != "sg-iso")) {
				t.Errorf("moves: got %v, want %d (conversion then isolation)", r.moves, tt.want)
			}
		})
	}
}
