package ec2

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func newSnapshotAction(w *snapWorld) *snapshot {
	reg := engine.NewRegistry()
	registerSnapshot(reg, w.clients)
	a, _ := reg.Lookup("snapshot")
	return a.(*snapshot)
}

// checkCaseSet asserts that the case holds exactly one completed snapshot of
// each of the world's volumes, tagged with the case, instance and volume,
// and that out reports those snapshots.
func checkCaseSet(t *testing.T, w *snapWorld, caseID string, out engine.Outputs) map[string]types.Snapshot {
	t.Helper()
	snaps := w.caseSnapshots(t, caseID)
	if len(snaps) != len(w.volumes) {
		t.Fatalf("snapshots tagged with case %q: got %d, want %d (one per volume)", caseID, len(snaps), len(w.volumes))
	}
	byVol := out["volumes"].(map[string]any)
	for _, v := range w.volumes {
		id, _ := byVol[v].(string)
		s, ok := snaps[id]
		if !ok {
			t.Fatalf("outputs.volumes[%q] = %q: not among the case's snapshots %v", v, id, snaps)
		}
		if s.State != types.SnapshotStateCompleted || aws.ToString(s.VolumeId) != v {
			t.Errorf("snapshot %s: got state %s volume %s, want completed of %s", id, s.State, aws.ToString(s.VolumeId), v)
		}
		want := map[string]string{"firebreak:case": caseID, "firebreak:source-instance": w.instance, "firebreak:source-volume": v}
		got := tagsOf(s.Tags)
		for k, wv := range want {
			if got[k] != wv {
				t.Errorf("snapshot %s tag %s: got %q, want %q", id, k, got[k], wv)
			}
		}
	}
	if ids := out["snapshot_ids"].([]any); len(ids) != len(w.volumes) {
		t.Errorf("outputs.snapshot_ids: got %v, want %d ids", ids, len(w.volumes))
	}
	return snaps
}

func TestSnapshotTakesOneCompletedSnapshotPerVolumeOnce(t *testing.T) {
	w := newSnapWorld(t)
	a := newSnapshotAction(w)
	params := engine.Params{"instance_id": w.instance}

	in, ev := stepInput("cr-snap-1", params)
	first := mustRun(t, a, in)
	snaps := checkCaseSet(t, w, "cr-snap-1", first)
	if first["reused"] != false {
		t.Errorf("first run: reused = %v, want false", first["reused"])
	}
	if len(ev.Records()) != 2 {
		t.Fatalf("artifacts recorded: got %d, want 2", len(ev.Records()))
	}
	for _, r := range ev.Records() {
		s, ok := snaps[r.ID]
		if !ok || r.Kind != "ebs-snapshot" || r.Source["volume_id"] != aws.ToString(s.VolumeId) || r.SHA256 != "" || r.Size <= 0 || !r.Complete {
			t.Errorf("artifact %+v: want a complete ebs-snapshot of a case snapshot, with volume, size and no hash", r)
		}
	}
	if len(eventNames(ev)) != 1 || eventNames(ev)[0] != "aws-change" || details(ev)[0]["call"] != "ec2:CreateSnapshots" {
		t.Errorf("custody events: got %v %v, want one aws-change for ec2:CreateSnapshots", eventNames(ev), details(ev))
	}

	in2, ev2 := stepInput("cr-snap-1", params)
	second := mustRun(t, a, in2)
	checkCaseSet(t, w, "cr-snap-1", second)
	if second["reused"] != true {
		t.Errorf("second run: reused = %v, want true", second["reused"])
	}
	for v, id := range first["volumes"].(map[string]any) {
		if second["volumes"].(map[string]any)[v] != id {
			t.Errorf("second run volume %s: got %v, want the first run's %v", v, second["volumes"].(map[string]any)[v], id)
		}
	}
	if len(eventNames(ev2)) != 0 {
		t.Errorf("second run custody events: got %v, want none (nothing changed)", eventNames(ev2))
	}

	// Another case gets its own set: the lookup is by case, not by instance.
	in3, _ := stepInput("cr-snap-2", params)
	checkCaseSet(t, w, "cr-snap-2", mustRun(t, a, in3))
}

func TestSnapshotResumedAfterCreateSnapshotsTakesNoSecondSet(t *testing.T) {
	w := newSnapWorld(t)
	ctx := testenv.Context(t)
	// The crashed attempt: CreateSnapshots went through with the case tags,
	// then the process died before the volume tags and the wait.
	made, err := w.ec2.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{
		InstanceSpecification: &types.InstanceSpecification{InstanceId: aws.String(w.instance)},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{
			{Key: aws.String("firebreak:case"), Value: aws.String("cr-resume")},
			{Key: aws.String("firebreak:source-instance"), Value: aws.String(w.instance)},
		}}},
	})
	if err != nil {
		t.Fatalf("CreateSnapshots: %v", err)
	}
	in, ev := stepInput("cr-resume", engine.Params{"instance_id": w.instance})
	in.Attempt = 2
	out := mustRun(t, newSnapshotAction(w), in)
	checkCaseSet(t, w, "cr-resume", out)
	for _, s := range made.Snapshots {
		if got := out["volumes"].(map[string]any)[aws.ToString(s.VolumeId)]; got != aws.ToString(s.SnapshotId) {
			t.Errorf("volume %s: got snapshot %v, want the crashed attempt's %s", aws.ToString(s.VolumeId), got, aws.ToString(s.SnapshotId))
		}
	}
	if out["reused"] != true || len(eventNames(ev)) != 0 {
		t.Errorf("resume: reused = %v, events %v; want true and no new change", out["reused"], eventNames(ev))
	}
	if len(ev.Records()) != 2 {
		t.Errorf("resume: artifacts recorded: got %d, want 2", len(ev.Records()))
	}
}

func TestSnapshotTakesOnlyTheVolumeAttachedSince(t *testing.T) {
	w := newSnapWorld(t)
	ctx := testenv.Context(t)
	a := newSnapshotAction(w)
	in, _ := stepInput("cr-grow", engine.Params{"instance_id": w.instance})
	first := mustRun(t, a, in)

	out, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.instance}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	az := out.Reservations[0].Instances[0].Placement.AvailabilityZone
	vol, err := w.ec2.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: az, Size: aws.Int32(2)})
	if err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	if _, err := w.ec2.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: vol.VolumeId, InstanceId: aws.String(w.instance), Device: aws.String("/dev/sdg")}); err != nil {
		t.Fatalf("AttachVolume: %v", err)
	}
	in2, ev := stepInput("cr-grow", engine.Params{"instance_id": w.instance})
	second := mustRun(t, a, in2)
	if n := len(w.caseSnapshots(t, "cr-grow")); n != 3 {
		t.Fatalf("case snapshots: got %d, want the first 2 plus 1 of the new volume", n)
	}
	vols := second["volumes"].(map[string]any)
	for v, id := range first["volumes"].(map[string]any) {
		if vols[v] != id {
			t.Errorf("volume %s: got %v, want the first run's %v", v, vols[v], id)
		}
	}
	if vols[aws.ToString(vol.VolumeId)] == nil || second["reused"] != false {
		t.Errorf("outputs: got %v, want the new volume's snapshot and reused false", second)
	}
	if len(eventNames(ev)) != 1 || details(ev)[0]["call"] != "ec2:CreateSnapshot" || details(ev)[0]["note"] == nil {
		t.Errorf("custody: got %v, want one single-volume CreateSnapshot noted as not crash-consistent", details(ev))
	}
}
