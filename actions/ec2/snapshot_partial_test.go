package ec2

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/firebreak-ir/firebreak/engine"
)

// lostCreate is an EC2 whose CreateSnapshots answer is lost (a 5xx after
// EC2 acted) and whose tag look-up then sees only part of the set (it is
// eventually consistent): vol-a's snapshot, not vol-b's.
type lostCreate struct {
	snapshotAPI
	mu      sync.Mutex
	lookups int
	single  []string // volumes given to CreateSnapshot
}

func (f *lostCreate) DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if f.lookups == 1 {
		return &ec2.DescribeSnapshotsOutput{}, nil
	}
	return &ec2.DescribeSnapshotsOutput{Snapshots: []types.Snapshot{{SnapshotId: aws.String("snap-a"), VolumeId: aws.String("vol-a"), State: types.SnapshotStatePending,
		Tags: []types.Tag{{Key: aws.String(snapTagVolume), Value: aws.String("vol-a")}}}}}, nil
}

func (f *lostCreate) CreateSnapshots(context.Context, *ec2.CreateSnapshotsInput, ...func(*ec2.Options)) (*ec2.CreateSnapshotsOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "InternalError", Message: "answer lost"}
}

func (f *lostCreate) CreateSnapshot(_ context.Context, in *ec2.CreateSnapshotInput, _ ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.single = append(f.single, aws.ToString(in.VolumeId))
	return &ec2.CreateSnapshotOutput{SnapshotId: aws.String("snap-" + aws.ToString(in.VolumeId)[4:])}, nil
}

func (f *lostCreate) CreateTags(context.Context, *ec2.CreateTagsInput, ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	return &ec2.CreateTagsOutput{}, nil
}

// TestSnapshotAfterALostCreateSnapshotsTakesTheMissingVolume: a partial
// set adopted after a lost CreateSnapshots answer is completed, not
// reported as the whole set.
func TestSnapshotAfterALostCreateSnapshotsTakesTheMissingVolume(t *testing.T) {
	t.Parallel()
	f := &lostCreate{}
	in, ev := stepInput("cr-p", engine.Params{"instance_id": "i-1"})
	set, reused, err := (&snapshot{}).ensureSnapshots(context.Background(), f, in, "i-1", []string{"vol-a", "vol-b"})
	if err != nil {
		t.Fatalf("ensureSnapshots: %v", err)
	}
	if reused || set["vol-a"] != "snap-a" || set["vol-b"] != "snap-b" || len(set) != 2 {
		t.Errorf("set: got %v reused %v, want vol-a snap-a, vol-b snap-b, not reused", set, reused)
	}
	if len(f.single) != 1 || f.single[0] != "vol-b" {
		t.Errorf("CreateSnapshot calls: got %v, want vol-b alone", f.single)
	}
	if !hasChange(ev, "ec2:CreateSnapshot", "volumes") {
		t.Errorf("custody: no aws-change for the single-volume snapshot: %v", details(ev))
	}
}
