package e2e

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestIsolateTaggedFansOut runs examples/isolate-tagged.yaml over two
// compromised instances on one server: each is isolated and snapshotted by
// its own for_each item, and both carry the wave tag.
func TestIsolateTaggedFansOut(t *testing.T) {
	m := testenv.StartMoto(t)
	ctx := testenv.Context(t)
	cfg := m.Config()
	var ids []any
	var worlds []*awsfixture.World
	for range 2 {
		w, err := awsfixture.Build(ctx, cfg)
		if err != nil {
			t.Fatalf("awsfixture.Build: %v", err)
		}
		worlds = append(worlds, w)
		ids = append(ids, w.InstanceID)
	}
	reg, _ := registry(cfg)
	pb, err := (&loader.Loader{Registry: reg}).LoadFile("../../examples/isolate-tagged.yaml")
	if err != nil {
		t.Fatalf("loading isolate-tagged:\n%v", err)
	}
	inputs, err := loader.ResolveInputs(pb, map[string]any{"instance_ids": ids, "wave": "w1"}, nil)
	if err != nil {
		t.Fatalf("ResolveInputs: %v", err)
	}
	store, err := evidence.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sessions := &session.Manager{Backend: &session.Local{Registry: reg, StateDir: t.TempDir()}}
	run, err := sessions.Start(ctx, &session.Request{Playbook: pb, Inputs: inputs, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	out := run.Wait()
	res, caseID := out.Result, run.CaseID
	if res == nil || out.Status != engine.RunSucceeded {
		if res != nil {
			for _, s := range res.Steps {
				t.Logf("step %s: %s %s %s %+v", s.ID, s.Status, s.Error, s.SkipReason, s.Items)
			}
		}
		t.Fatalf("run: status %q, err %v; want succeeded", out.Status, out.Err)
	}
	disks, _ := res.Step("disks")
	if len(disks.Items) != 2 {
		t.Fatalf("disks items: got %d, want one per instance", len(disks.Items))
	}
	e := ec2.NewFromConfig(cfg)
	for i, w := range worlds {
		snaps, err := e.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []types.Filter{
			{Name: aws.String("tag:firebreak:case"), Values: []string{caseID}},
			{Name: aws.String("tag:firebreak:source-instance"), Values: []string{w.InstanceID}},
		}})
		if err != nil {
			t.Fatalf("DescribeSnapshots: %v", err)
		}
		var vols []string
		for _, s := range snaps.Snapshots {
			vols = append(vols, aws.ToString(s.VolumeId))
		}
		slices.Sort(vols)
		if want := slices.Sorted(slices.Values(w.VolumeIDs)); !slices.Equal(vols, want) {
			t.Errorf("instance %d snapshots: got volumes %v, want %v", i, vols, want)
		}
		out, err := e.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.InstanceID}})
		if err != nil {
			t.Fatalf("DescribeInstances: %v", err)
		}
		tags := map[string]string{}
		for _, tg := range out.Reservations[0].Instances[0].Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		if tags["firebreak:wave"] != "w1" || tags["firebreak:case"] != caseID {
			t.Errorf("instance %d tags: got %v, want firebreak:wave=w1 and firebreak:case=%s", i, tags, caseID)
		}
	}
}
