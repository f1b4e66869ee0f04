package ec2

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func TestSnapshotAndTerminatePlanChangeNothing(t *testing.T) {
	w := newSnapWorld(t)
	ctx := testenv.Context(t)
	snap, term := newSnapshotAction(w), newTerminateAction(w).(*terminate)

	d, err := snap.Plan(ctx, &engine.PlanInput{Params: engine.Params{"instance_id": engine.Unknown{Expr: "steps.find.outputs.instance_id"}}})
	if err != nil || !strings.Contains(d.Calls[1], "ec2:CreateSnapshots <runtime: steps.find.outputs.instance_id>") {
		t.Fatalf("plan with an unknown instance: got %v (err %v), want CreateSnapshots <runtime: ...>", d, err)
	}

	d, err = snap.Plan(ctx, &engine.PlanInput{Check: true, Params: engine.Params{"instance_id": w.instance}})
	if err != nil || len(d.Problems) != 0 || len(d.Notes) != 1 || !strings.HasPrefix(d.Notes[0], "2 volumes attached") {
		t.Errorf("snapshot plan --check: got %+v (err %v), want 2 volumes and no problem", d, err)
	}
	d, err = term.Plan(ctx, &engine.PlanInput{Check: true, Params: engine.Params{"instance_id": w.instance, "mode": "stop"}})
	if err != nil || len(d.Problems) != 0 || !strings.Contains(d.Notes[0], "is running") {
		t.Errorf("terminate plan --check: got %+v (err %v), want running and no problem", d, err)
	}
	d, err = term.Plan(ctx, &engine.PlanInput{Check: true, Params: engine.Params{"instance_id": "i-0123456789abcdef0"}})
	if err != nil || len(d.Problems) != 1 {
		t.Errorf("terminate plan --check of a missing instance: got %+v (err %v), want one problem", d, err)
	}

	out, err := w.ec2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("volume-id"), Values: w.volumes}}})
	if err != nil || len(out.Snapshots) != 0 {
		t.Errorf("snapshots after planning: got %d (err %v), want none", len(out.Snapshots), err)
	}
	if got := w.state(t); got != types.InstanceStateNameRunning {
		t.Errorf("instance after planning: got %s, want running", got)
	}
}
