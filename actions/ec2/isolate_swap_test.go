package ec2

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// secondMoveFails lets the first move (into the conversion group) through
// and refuses the second with a throttling error: a transient failure.
type secondMoveFails struct {
	isolateEC2
	n *atomic.Int32
}

func (s secondMoveFails) ModifyNetworkInterfaceAttribute(ctx context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, o ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	if s.n.Add(1) == 2 {
		return nil, &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "throttled"}
	}
	return s.isolateEC2.ModifyNetworkInterfaceAttribute(ctx, in, o...)
}

// TestIsolateRetriesTheMoveOutOfConversion: a transient refusal of the
// move into the isolation group is retried; no ENI stays allow-all.
func TestIsolateRetriesTheMoveOutOfConversion(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	a := hw.isolateAction()
	apis := a.apis
	var n atomic.Int32
	a.apis = func(region string) hostAPIs { h := apis(region); h.ec2 = secondMoveFails{h.ec2, &n}; return h }
	out, _, err := hostRun(ctx, a, "cr-y", "isolate", engine.Params{"instance_id": hw.w.InstanceID})
	if err != nil {
		t.Fatalf("isolate: %v", err)
	}
	if in, err := hw.check.ENIsInGroup(ctx, out["conversion_group_id"].(string)); err != nil || len(in) != 0 {
		t.Errorf("ENIs in the allow-all conversion group: got %v (err %v), want none", in, err)
	}
	hw.assertIsolated(t, ctx, out["isolation_group_id"].(string), hw.w.ENIIDs)
}

// primaryStuck refuses, for one ENI, every move into a single group after
// the first (the conversion group): the isolation group never takes it.
type primaryStuck struct {
	isolateEC2
	eni string
	n   *atomic.Int32
}

func (s primaryStuck) ModifyNetworkInterfaceAttribute(ctx context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, o ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	if aws.ToString(in.NetworkInterfaceId) == s.eni && len(in.Groups) == 1 && s.n.Add(1) > 1 {
		return nil, &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "denied"}
	}
	return s.isolateEC2.ModifyNetworkInterfaceAttribute(ctx, in, o...)
}

// TestIsolateMovesAStuckENIBackAndIsolatesTheRest: an ENI that cannot
// leave the conversion group goes back to its recorded groups, the error
// says so, and the other ENIs are isolated all the same.
func TestIsolateMovesAStuckENIBackAndIsolatesTheRest(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	a := hw.isolateAction()
	apis := a.apis
	var n atomic.Int32
	a.apis = func(region string) hostAPIs {
		h := apis(region)
		h.ec2 = primaryStuck{h.ec2, hw.w.PrimaryENI, &n}
		return h
	}
	out, _, err := hostRun(ctx, a, "cr-z", "isolate", engine.Params{"instance_id": hw.w.InstanceID})
	if err == nil || !strings.Contains(err.Error(), "moved it back to its original groups") || !strings.Contains(err.Error(), hw.w.PrimaryENI) {
		t.Fatalf("isolate: got %v, want an error naming %s moved back to its original groups", err, hw.w.PrimaryENI)
	}
	if in, err := hw.check.ENIsInGroup(ctx, out["conversion_group_id"].(string)); err != nil || len(in) != 0 {
		t.Errorf("ENIs in the allow-all conversion group: got %v (err %v), want none", in, err)
	}
	for _, g := range hw.w.GroupsByENI[hw.w.PrimaryENI] {
		if in, _ := hw.check.ENIsInGroup(ctx, g); !contains(in, hw.w.PrimaryENI) {
			t.Errorf("original group %s: holds %v, want %s back in it", g, in, hw.w.PrimaryENI)
		}
	}
	iso, _ := hw.check.ENIsInGroup(ctx, out["isolation_group_id"].(string))
	for _, eni := range hw.w.ENIIDs {
		if eni != hw.w.PrimaryENI && !contains(iso, eni) {
			t.Errorf("ENI %s: not in the isolation group %v, want the others isolated despite the stuck one", eni, iso)
		}
	}
}
