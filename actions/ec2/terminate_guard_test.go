package ec2

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// volumesLeft reports which of the world's volumes still exist.
func (w *snapWorld) volumesLeft(t *testing.T) map[string]bool {
	t.Helper()
	out, err := w.ec2.DescribeVolumes(testenv.Context(t), &ec2.DescribeVolumesInput{})
	if err != nil {
		t.Fatalf("DescribeVolumes: %v", err)
	}
	left := map[string]bool{}
	for _, v := range out.Volumes {
		left[aws.ToString(v.VolumeId)] = true
	}
	return left
}

// isolateAndSnapshot does what a playbook does before terminate.
func (w *snapWorld) isolateAndSnapshot(t *testing.T, caseID string) {
	t.Helper()
	iso := &isolate{apis: clientAPIs(w.clients), region: w.clients.Region, now: time.Now}
	in, _ := stepInput(caseID, engine.Params{"instance_id": w.instance})
	mustRun(t, iso, in)
	in, _ = stepInput(caseID, engine.Params{"instance_id": w.instance})
	mustRun(t, newSnapshotAction(w), in)
}

// TestTerminateRefusesUntilTheDisksAreSafe: a case-tagged instance whose
// volumes would die with it and have no snapshot is refused and left
// running with its volumes; after isolate and snapshot it is terminated
// and every volume survives it.
func TestTerminateRefusesUntilTheDisksAreSafe(t *testing.T) {
	w := newSnapWorld(t)
	a := newTerminateAction(w)
	w.tagCase(t, "cr-keep")
	in, ev := stepInput("cr-keep", engine.Params{"instance_id": w.instance, "mode": "terminate"})
	_, err := a.Run(testenv.Context(t), in)
	if err == nil || !strings.Contains(err.Error(), `is tagged firebreak:status="", not "isolated": refusing to terminate it`) {
		t.Fatalf("unisolated: got %v, want a refusal naming the status tag", err)
	}
	if len(ev.Names())+len(eventNames(ev)) != 0 {
		t.Errorf("evidence written on refusal: %v %v", ev.Names(), eventNames(ev))
	}
	// Isolated but with no snapshot: still refused.
	_, err = w.ec2.CreateTags(testenv.Context(t), &ec2.CreateTagsInput{Resources: []string{w.instance},
		Tags: []types.Tag{{Key: aws.String("firebreak:status"), Value: aws.String("isolated")}}})
	if err != nil {
		t.Fatal(err)
	}
	in, ev = stepInput("cr-keep", engine.Params{"instance_id": w.instance, "mode": "terminate"})
	_, err = a.Run(testenv.Context(t), in)
	if err == nil || !strings.Contains(err.Error(), `no completed snapshot tagged firebreak:case="cr-keep" of volume(s)`) {
		t.Fatalf("no snapshot: got %v, want a refusal naming the volumes", err)
	}
	if got := w.state(t); got != types.InstanceStateNameRunning {
		t.Fatalf("state after refusal: got %s, want running", got)
	}
	if len(ev.Names())+len(eventNames(ev)) != 0 {
		t.Errorf("evidence written on refusal: %v %v", ev.Names(), eventNames(ev))
	}

	w.isolateAndSnapshot(t, "cr-keep")
	// Turn DeleteOnTermination back on for the root: terminate must set it
	// off itself, not trust isolate to have done so.
	inst := w.describe(t)
	_, err = w.ec2.ModifyInstanceAttribute(testenv.Context(t), &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(w.instance),
		BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{{DeviceName: inst.RootDeviceName,
			Ebs: &types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(true)}}}})
	if err != nil {
		t.Fatal(err)
	}
	in, ev = stepInput("cr-keep", engine.Params{"instance_id": w.instance, "mode": "terminate"})
	mustRun(t, a, in)
	if got := w.state(t); got != types.InstanceStateNameTerminated {
		t.Fatalf("state: got %s, want terminated", got)
	}
	left := w.volumesLeft(t)
	for _, v := range w.volumes {
		if !left[v] {
			t.Errorf("volume %s destroyed by terminate", v)
		}
	}
	if !hasChange(ev, "ec2:ModifyInstanceAttribute", "delete_on_termination") {
		t.Errorf("custody: no aws-change for DeleteOnTermination=false: %v", details(ev))
	}
	var before instanceBefore
	if err := json.Unmarshal(object(ev, w.instance+"-before-terminate-running.json"), &before); err != nil {
		t.Fatalf("state artifact: %v", err)
	}
	if !before.InstanceStore.Known || before.InstanceStore.Present || !strings.HasPrefix(before.InstanceStore.Note, "none:") {
		t.Errorf("state artifact instance_store: got %+v, want known, none (t3.micro)", before.InstanceStore)
	}
}

func (w *snapWorld) describe(t *testing.T) types.Instance {
	t.Helper()
	out, err := w.ec2.DescribeInstances(testenv.Context(t), &ec2.DescribeInstancesInput{InstanceIds: []string{w.instance}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	return out.Reservations[0].Instances[0]
}

func hasChange(ev *enginetest.Evidence, call, key string) bool {
	for _, d := range details(ev) {
		if d["call"] == call && d[key] != nil {
			return true
		}
	}
	return false
}
