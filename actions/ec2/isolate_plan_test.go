package ec2

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestIsolatePlanChangesNothing: a checked plan names the fixture's own
// ENIs, volumes, group and target group, and leaves the host as it was.
func TestIsolatePlanChangesNothing(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	a := hw.isolateAction()
	d, err := a.Plan(ctx, &engine.PlanInput{StepID: "isolate", Check: true, Params: engine.Params{"instance_id": hw.w.InstanceID, "nacl": true}})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	all := strings.Join(d.Calls, "\n")
	for _, want := range []string{hw.w.PrimaryENI, hw.w.SecondaryENI, hw.w.ASGName, hw.w.TargetGroupARN, hw.w.ClassicELBName, hw.w.InstanceProfileARN, "CreateNetworkAclEntry deny " + hw.w.PrivateIP} {
		if !strings.Contains(all, want) {
			t.Errorf("planned calls do not name %s:\n%s", want, all)
		}
	}
	if len(d.Problems) != 0 {
		t.Errorf("problems: %v, want none (moto allows everything)", d.Problems)
	}
	if got := hw.attr(t, ctx, types.InstanceAttributeNameDisableApiTermination); got != "false" {
		t.Errorf("termination protection after plan: got %s, want false (plan must change nothing)", got)
	}
	for _, g := range []string{hw.w.WebGroupID, hw.w.DBGroupID} {
		if got, _ := hw.check.ENIsInGroup(ctx, g); len(got) != 1 {
			t.Errorf("group %s after plan: holds %v, want its ENI still", g, got)
		}
	}
	if got := hw.firebreakGroups(t, ctx); len(got) != 0 {
		t.Errorf("plan created groups %v", got)
	}
	if tags := tagMap(hw.instance(t, ctx).Tags); len(tags) != len(hw.w.Tags)+1 { // + aws:autoscaling:groupName
		t.Errorf("plan tagged the instance: %v", tags)
	}

	d, err = a.Plan(ctx, &engine.PlanInput{StepID: "isolate", Params: engine.Params{"instance_id": engine.Unknown{Expr: "steps.find.outputs.instance_id"}}})
	if err != nil || len(d.Calls) == 0 || !strings.Contains(d.Calls[0], "<runtime: steps.find.outputs.instance_id>") {
		t.Errorf("plan of an unknown instance: got %v, %v", d, err)
	}
}
