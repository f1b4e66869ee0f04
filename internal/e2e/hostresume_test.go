package e2e

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// diesAfterCreateSnapshots stands for a firebreak process killed inside the
// snapshot step: CreateSnapshots went through, tagged with the case, and
// nothing after it happened.
type diesAfterCreateSnapshots struct {
	spec engine.ActionSpec
	ec2  *ec2.Client
	made []types.SnapshotInfo
}

func (d *diesAfterCreateSnapshots) Spec() engine.ActionSpec { return d.spec }
func (d *diesAfterCreateSnapshots) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	id := in.Params.String("instance_id")
	out, err := d.ec2.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{
		InstanceSpecification: &types.InstanceSpecification{InstanceId: aws.String(id)},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{
			{Key: aws.String("firebreak:case"), Value: aws.String(in.CaseID)},
			{Key: aws.String("firebreak:source-instance"), Value: aws.String(id)},
		}}},
	})
	if err != nil {
		return nil, err
	}
	d.made = out.Snapshots
	return nil, errors.New("killed after CreateSnapshots")
}

// TestHostCompromiseResumeTakesNoSecondSnapshotSet runs host-compromise
// until the snapshot step dies after CreateSnapshots, then resumes the run
// from its journal with the real actions: the resumed step adopts the
// snapshots the dead one made.
func TestHostCompromiseResumeTakesNoSecondSnapshotSet(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	reg, _ := registry(hw.cfg)
	real, _ := reg.Lookup("snapshot")
	dying := &diesAfterCreateSnapshots{spec: real.Spec(), ec2: hw.ec2}
	pb, err := (&loader.Loader{Registry: reg}).LoadFile("../../playbooks/host-compromise.yaml")
	if err != nil {
		t.Fatalf("loading host-compromise:\n%v", err)
	}
	inputs, err := loader.ResolveInputs(pb, map[string]any{"instance_id": hw.world.InstanceID, "terminate": true}, nil)
	if err != nil {
		t.Fatalf("ResolveInputs: %v", err)
	}
	store, err := evidence.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	manager := func(reg *engine.Registry) *session.Manager {
		return &session.Manager{Backend: &session.Local{Registry: reg, StateDir: stateDir}, Open: session.Opener{
			Store:    func(context.Context, evidence.Location) (evidence.Store, error) { return store, nil },
			Playbook: func(string) (*engine.Playbook, error) { return pb, nil },
		}}
	}
	run, err := manager(swapActions(reg, map[string]engine.Action{"snapshot": dying})).Start(ctx,
		&session.Request{Playbook: pb, Inputs: inputs, Store: store, Evidence: evidence.Location{Scheme: evidence.FileScheme, Path: store.Root()}})
	if err != nil {
		t.Fatal(err)
	}
	firstOut := run.Wait()
	first, caseID := firstOut.Result, run.CaseID
	if first == nil {
		t.Fatalf("first run: %v", firstOut.Err)
	}
	if rec, _ := first.Step("disks"); rec.Status != engine.StatusFailed || len(dying.made) != 2 {
		t.Fatalf("first run: disks %s, %d snapshots made; want failed after making 2", rec.Status, len(dying.made))
	}
	if got := hw.instanceState(t); got != types.InstanceStateNameRunning {
		t.Fatalf("instance after the failed run: got %s, want running", got)
	}

	// Resume by id, as `firebreak resume` does, now with the real actions.
	m := manager(reg)
	req, err := m.ResumeRequest(ctx, run.ID)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	again, err := m.Resume(ctx, req)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	out := again.Wait()
	res := out.Result
	if res == nil || out.CaseID != caseID {
		t.Fatalf("resume: %v (case %q, want %q)", out.Err, out.CaseID, caseID)
	}
	disks, _ := res.Step("disks")
	stop, _ := res.Step("stop")
	if res.Status != engine.RunSucceeded || disks.Status != engine.StatusSucceeded || stop.Status != engine.StatusSucceeded {
		t.Fatalf("resume: run %s, disks %s (%s), stop %s; want all succeeded", res.Status, disks.Status, disks.Error, stop.Status)
	}
	snaps, err := hw.ec2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:firebreak:case"), Values: []string{caseID}}}})
	if err != nil {
		t.Fatalf("DescribeSnapshots: %v", err)
	}
	if len(snaps.Snapshots) != 2 {
		t.Errorf("case snapshots after resume: got %d, want the 2 the dead attempt made", len(snaps.Snapshots))
	}
	vols, _ := disks.Outputs["volumes"].(map[string]any)
	for _, s := range dying.made {
		if vols[aws.ToString(s.VolumeId)] != aws.ToString(s.SnapshotId) {
			t.Errorf("volume %s: resumed step reports %v, want the dead attempt's %s", aws.ToString(s.VolumeId), vols[aws.ToString(s.VolumeId)], aws.ToString(s.SnapshotId))
		}
	}
	if got := hw.instanceState(t); got != types.InstanceStateNameStopped {
		t.Errorf("instance after the resumed run: got %s, want stopped", got)
	}
	if rep, err := evidence.Verify(ctx, store, caseID, nil); err != nil || !rep.OK() || out.Manifest == nil {
		t.Errorf("the resumed case: sealed %v, verify %v %+v", out.Manifest != nil, err, rep)
	}
}

func (hw *hostWorld) instanceState(t *testing.T) types.InstanceStateName {
	t.Helper()
	out, err := hw.ec2.DescribeInstances(testenv.Context(t), &ec2.DescribeInstancesInput{InstanceIds: []string{hw.world.InstanceID}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	return out.Reservations[0].Instances[0].State.Name
}
