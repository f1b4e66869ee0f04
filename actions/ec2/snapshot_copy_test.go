package ec2

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/firebreak-ir/firebreak/engine"
)

// lostCopy is an EC2 that makes the copy and loses the answer (a 5xx):
// the copy then shows up in the tag look-up.
type lostCopy struct {
	snapshotAPI
	copies, lookups int
	sdkRetries      []int // RetryMaxAttempts each CopySnapshot was made with
}

func (f *lostCopy) CopySnapshot(_ context.Context, _ *ec2.CopySnapshotInput, opts ...func(*ec2.Options)) (*ec2.CopySnapshotOutput, error) {
	o := ec2.Options{RetryMaxAttempts: 3}
	for _, fn := range opts {
		fn(&o)
	}
	f.sdkRetries = append(f.sdkRetries, o.RetryMaxAttempts)
	f.copies++
	return nil, &smithy.GenericAPIError{Code: "InternalError", Message: "answer lost"}
}

func (f *lostCopy) DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	f.lookups++
	if f.copies == 0 {
		return &ec2.DescribeSnapshotsOutput{}, nil
	}
	return &ec2.DescribeSnapshotsOutput{Snapshots: []types.Snapshot{{SnapshotId: aws.String("snap-copy"), State: types.SnapshotStatePending}}}, nil
}

// TestCopySnapshotIsNotRepeatedAfterALostAnswer: the copy is made without
// the SDK's retries and, after a transient failure, found by its tag
// instead of copied again.
func TestCopySnapshotIsNotRepeatedAfterALostAnswer(t *testing.T) {
	t.Parallel()
	f := &lostCopy{}
	in, ev := stepInput("cr-c", engine.Params{})
	id, err := ensureCopy(context.Background(), f, in, "us-east-1", "i-1", "vol-1", "snap-1", "alias/evidence")
	if err != nil || id != "snap-copy" {
		t.Fatalf("ensureCopy: got %q, %v, want snap-copy", id, err)
	}
	if f.copies != 1 || len(f.sdkRetries) != 1 || f.sdkRetries[0] != 1 {
		t.Errorf("CopySnapshot: %d calls, SDK attempts %v, want 1 call made with 1 attempt", f.copies, f.sdkRetries)
	}
	if !hasChange(ev, "ec2:CopySnapshot", "copy") {
		t.Errorf("custody: no aws-change for the copy: %v", details(ev))
	}
}
