package ec2

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/smithy-go"
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
			ev := &hostEvidence{}
			if err := detachASG(context.Background(), f, ev, "i-1", "web"); err != nil {
				t.Fatalf("detachASG: %v", err)
			}
			if !f.protected || len(f.detached) != len(tt.wantCalls) || f.detached[len(f.detached)-1] != tt.wantCalls[len(tt.wantCalls)-1] {
				t.Errorf("calls: protected %v, detach decrements %v, want protection then %v", f.protected, f.detached, tt.wantCalls)
			}
			ch := ev.eventsNamed("aws-change")
			if last := ch[len(ch)-1]; last["call"] != "autoscaling:DetachInstances" || last["decrement_desired_capacity"] != !tt.atMin {
				t.Errorf("custody: got %v, want the detach with decrement %v", last, !tt.atMin)
			}
		})
	}
}
