package ec2

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// unsupportedSG refuses the ENI swap with the code EC2 gives for an
// operation it does not support on this resource: a refusal, not a gap.
type unsupportedSG struct{ isolateEC2 }

func (unsupportedSG) ModifyNetworkInterfaceAttribute(context.Context, *ec2.ModifyNetworkInterfaceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "UnsupportedOperation", Message: "refused"}
}

// TestIsolateUnsupportedOperationIsAFailure: containment parts are strict,
// so an ENI that never left its groups fails the step and the instance is
// not tagged isolated.
func TestIsolateUnsupportedOperationIsAFailure(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	a := hw.isolateAction()
	apis := a.apis
	a.apis = func(region string) hostAPIs { h := apis(region); h.ec2 = unsupportedSG{h.ec2}; return h }
	out, ev, err := hostRun(ctx, a, "cr-x", "isolate", engine.Params{"instance_id": hw.w.InstanceID})
	if err == nil || !strings.Contains(err.Error(), "security-groups") {
		t.Fatalf("err: got %v, want the security-groups part failed", err)
	}
	if got := out["substeps"].(map[string]any)["security-groups"].(string); !strings.HasPrefix(got, "error: ") {
		t.Errorf("substeps[security-groups]: got %q, want error: ...", got)
	}
	if got := tagMap(hw.instance(t, ctx).Tags)["firebreak:status"]; got != "isolation-incomplete" {
		t.Errorf("status tag: got %q, want isolation-incomplete", got)
	}
	if gaps := ev.EventsNamed("gap"); len(gaps) != 0 {
		t.Errorf("custody gap events: got %v, want none", gaps)
	}
}
