package ec2

import (
	"context"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// object is the artifact stored under name, nil when there is none.
func object(ev *enginetest.Evidence, name string) []byte {
	b, _ := ev.Object(name)
	return b
}

// eventNames are the custody events' names, in order.
func eventNames(ev *enginetest.Evidence) []string {
	var out []string
	for _, e := range ev.Events() {
		out = append(out, e.Name)
	}
	return out
}

// details are the custody events' details, in order.
func details(ev *enginetest.Evidence) []map[string]any {
	var out []map[string]any
	for _, e := range ev.Events() {
		out = append(out, e.Detail)
	}
	return out
}

// snapWorld is a moto server with one running instance carrying two EBS
// volumes (its root and a data volume).
type snapWorld struct {
	moto     *testenv.Moto
	clients  *awsapi.Clients
	ec2      *ec2.Client
	instance string
	volumes  []string
}

func newSnapWorld(t *testing.T) *snapWorld {
	t.Helper()
	m := testenv.StartMoto(t)
	ctx := testenv.Context(t)
	cfg := m.Config()
	w := &snapWorld{moto: m, clients: awsapi.NewClients(cfg), ec2: ec2.NewFromConfig(cfg)}
	w.instance = w.launch(t, ctx)
	out, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.instance}})
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	for _, bdm := range out.Reservations[0].Instances[0].BlockDeviceMappings {
		w.volumes = append(w.volumes, aws.ToString(bdm.Ebs.VolumeId))
	}
	sort.Strings(w.volumes)
	if len(w.volumes) != 2 {
		t.Fatalf("fixture: instance has volumes %v, want 2", w.volumes)
	}
	return w
}

func (w *snapWorld) launch(t *testing.T, ctx context.Context) string {
	t.Helper()
	imgs, err := w.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("DescribeImages: %v (%d images)", err, len(imgs.Images))
	}
	run, err := w.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: imgs.Images[0].ImageId, InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
	})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	az := aws.ToString(run.Instances[0].Placement.AvailabilityZone)
	vol, err := w.ec2.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(az), Size: aws.Int32(4)})
	if err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	_, err = w.ec2.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: vol.VolumeId, InstanceId: aws.String(id), Device: aws.String("/dev/sdf")})
	if err != nil {
		t.Fatalf("AttachVolume: %v", err)
	}
	return id
}

// caseSnapshots returns the snapshots tagged with caseID, by id.
func (w *snapWorld) caseSnapshots(t *testing.T, caseID string) map[string]types.Snapshot {
	t.Helper()
	out, err := w.ec2.DescribeSnapshots(testenv.Context(t), &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters:  []types.Filter{{Name: aws.String("tag:firebreak:case"), Values: []string{caseID}}},
	})
	if err != nil {
		t.Fatalf("DescribeSnapshots: %v", err)
	}
	got := map[string]types.Snapshot{}
	for _, s := range out.Snapshots {
		got[aws.ToString(s.SnapshotId)] = s
	}
	return got
}

func stepInput(caseID string, params engine.Params) (*engine.StepInput, *enginetest.Evidence) {
	ev := enginetest.NewEvidence()
	return &engine.StepInput{RunID: "run-test", CaseID: caseID, StepID: "disks", Params: params, Attempt: 1, Evidence: ev}, ev
}

func tagsOf(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func mustRun(t *testing.T, a engine.Action, in *engine.StepInput) engine.Outputs {
	t.Helper()
	out, err := a.Run(testenv.Context(t), in)
	if err != nil {
		t.Fatalf("%s: %v", a.Spec().Name, err)
	}
	return out
}
