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
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func newTerminateAction(w *snapWorld) engine.Action {
	reg := engine.NewRegistry()
	registerTerminate(reg, w.clients)
	a, _ := reg.Lookup("terminate")
	a.(*terminate).poll = time.Millisecond
	return a
}

func (w *snapWorld) state(t *testing.T) types.InstanceStateName {
	t.Helper()
	out, err := w.ec2.DescribeInstances(testenv.Context(t), &ec2.DescribeInstancesInput{InstanceIds: []string{w.instance}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	return out.Reservations[0].Instances[0].State.Name
}

func (w *snapWorld) tagCase(t *testing.T, caseID string) {
	t.Helper()
	_, err := w.ec2.CreateTags(testenv.Context(t), &ec2.CreateTagsInput{Resources: []string{w.instance},
		Tags: []types.Tag{{Key: aws.String("firebreak:case"), Value: aws.String(caseID)}}})
	if err != nil {
		t.Fatalf("CreateTags: %v", err)
	}
}

func TestTerminateRefusesAnInstanceNotTaggedForTheCase(t *testing.T) {
	w := newSnapWorld(t)
	a := newTerminateAction(w)
	for _, tagged := range []string{"", "cr-other"} {
		if tagged != "" {
			w.tagCase(t, tagged)
		}
		in, ev := stepInput("cr-mine", engine.Params{"instance_id": w.instance, "mode": "stop"})
		_, err := a.Run(testenv.Context(t), in)
		want := `terminate: instance "` + w.instance + `" is not tagged firebreak:case="cr-mine" (it has "` + tagged + `"): refusing to stop it`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("tag %q: got error %v, want it to start %q", tagged, err, want)
		}
		if got := w.state(t); got != types.InstanceStateNameRunning {
			t.Fatalf("tag %q: instance state after refusal: got %s, want running", tagged, got)
		}
		if len(ev.Names())+len(eventNames(ev)) != 0 {
			t.Errorf("tag %q: evidence written on refusal: %v %v", tagged, ev.Names(), eventNames(ev))
		}
	}
	// force overrides the refusal and says so in the custody log.
	in, ev := stepInput("cr-mine", engine.Params{"instance_id": w.instance, "mode": "stop", "force": true})
	mustRun(t, a, in)
	if got := w.state(t); got != types.InstanceStateNameStopped {
		t.Fatalf("forced stop: got state %s, want stopped", got)
	}
	if len(eventNames(ev)) == 0 || eventNames(ev)[0] != "forced" {
		t.Errorf("forced stop: custody events %v, want a \"forced\" event first", eventNames(ev))
	}
}

func TestTerminateStopsATaggedInstanceAndRecordsItsStateBefore(t *testing.T) {
	w := newSnapWorld(t)
	a := newTerminateAction(w)
	w.tagCase(t, "cr-stop")
	ctx := testenv.Context(t)
	// isolate turns termination protection on; stop must leave it on.
	_, err := w.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(w.instance),
		DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	if err != nil {
		t.Fatalf("ModifyInstanceAttribute: %v", err)
	}
	in, ev := stepInput("cr-stop", engine.Params{"instance_id": w.instance})
	out := mustRun(t, a, in)
	if got := w.state(t); got != types.InstanceStateNameStopped {
		t.Fatalf("state: got %s, want stopped", got)
	}
	if out["previous_state"] != "running" || out["state"] != "stopped" || out["protection_lifted"] != false {
		t.Errorf("outputs: got %v, want running -> stopped, protection kept", out)
	}
	if !w.protected(t) {
		t.Errorf("termination protection: got off, want still on after a stop")
	}
	name := w.instance + "-before-stop-running.json"
	var before instanceBefore
	if err := json.Unmarshal(object(ev, name), &before); err != nil {
		t.Fatalf("artifact %s: %v (artifacts %v)", name, err, ev.Names())
	}
	if aws.ToString(before.Instance.InstanceId) != w.instance || before.Instance.State.Name != types.InstanceStateNameRunning || !before.DisableApiTermination {
		t.Errorf("state before: got %s %s protection=%v, want %s running protection=true",
			aws.ToString(before.Instance.InstanceId), before.Instance.State.Name, before.DisableApiTermination, w.instance)
	}
	// Again: already stopped, nothing to do, nothing recorded.
	in2, ev2 := stepInput("cr-stop", engine.Params{"instance_id": w.instance})
	mustRun(t, a, in2)
	if len(ev2.Names())+len(eventNames(ev2)) != 0 {
		t.Errorf("second stop: evidence written %v %v, want none", ev2.Names(), eventNames(ev2))
	}
}

func TestTerminateModeTerminateLiftsProtection(t *testing.T) {
	w := newSnapWorld(t)
	a := newTerminateAction(w)
	// isolate turns termination protection on; terminate needs its status
	// tag and the case's snapshots.
	w.isolateAndSnapshot(t, "cr-term")
	in, _ := stepInput("cr-term", engine.Params{"instance_id": w.instance, "mode": "terminate"})
	out := mustRun(t, a, in)
	if got := w.state(t); got != types.InstanceStateNameTerminated {
		t.Fatalf("state: got %s, want terminated", got)
	}
	if out["protection_lifted"] != true {
		t.Errorf("outputs.protection_lifted: got %v, want true", out["protection_lifted"])
	}
	// Stopping a terminated instance is an error, not a silent success.
	in2, _ := stepInput("cr-term", engine.Params{"instance_id": w.instance, "mode": "stop"})
	if _, err := a.Run(testenv.Context(t), in2); err == nil || !strings.Contains(err.Error(), "is terminated: it cannot be stopped") {
		t.Errorf("stop after terminate: got %v, want it cannot be stopped", err)
	}
}

func (w *snapWorld) protected(t *testing.T) bool {
	t.Helper()
	out, err := w.ec2.DescribeInstanceAttribute(testenv.Context(t), &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(w.instance), Attribute: types.InstanceAttributeNameDisableApiTermination})
	if err != nil {
		t.Fatalf("DescribeInstanceAttribute: %v", err)
	}
	return aws.ToBool(out.DisableApiTermination.Value)
}
