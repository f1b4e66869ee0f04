package ec2

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// newSnapshotUnknown answers DescribeSnapshots as EC2 may right after
// CreateSnapshots: NotFound for the new id, twice, then completed.
type newSnapshotUnknown struct {
	snapshotAPI
	polls int
}

func (f *newSnapshotUnknown) DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	f.polls++
	if f.polls <= 2 {
		return nil, &smithy.GenericAPIError{Code: "InvalidSnapshot.NotFound", Message: "The snapshot 'snap-1' does not exist."}
	}
	return &ec2.DescribeSnapshotsOutput{Snapshots: []types.Snapshot{
		{SnapshotId: aws.String("snap-1"), VolumeId: aws.String("vol-1"), State: types.SnapshotStateCompleted}}}, nil
}

// TestSnapshotWaitTreatsANewIdNotFoundAsPending: NotFound right after the
// create is eventual consistency, waited out.
func TestSnapshotWaitTreatsANewIdNotFoundAsPending(t *testing.T) {
	t.Parallel()
	f := &newSnapshotUnknown{}
	got, err := (&snapshot{poll: time.Millisecond}).waitCompleted(context.Background(), f, []string{"snap-1"}, time.Minute)
	if err != nil || len(got) != 1 || f.polls != 3 {
		t.Fatalf("waitCompleted: got %v, %v after %d polls, want the completed snapshot after 3", got, err, f.polls)
	}
}

// newGroupUnknown answers rule calls on a group as EC2 may right after
// CreateSecurityGroup: InvalidGroup.NotFound twice per call, then moto's
// answer.
type newGroupUnknown struct {
	isolateEC2
	mu    sync.Mutex
	calls map[string]int
}

func (f *newGroupUnknown) notYet(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[call]++
	if f.calls[call] <= 2 {
		return &smithy.GenericAPIError{Code: "InvalidGroup.NotFound", Message: "The security group does not exist"}
	}
	return nil
}

func (f *newGroupUnknown) AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, o ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	if err := f.notYet("ingress"); err != nil {
		return nil, err
	}
	return f.isolateEC2.AuthorizeSecurityGroupIngress(ctx, in, o...)
}

func (f *newGroupUnknown) RevokeSecurityGroupEgress(ctx context.Context, in *ec2.RevokeSecurityGroupEgressInput, o ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error) {
	if err := f.notYet("revoke-egress"); err != nil {
		return nil, err
	}
	return f.isolateEC2.RevokeSecurityGroupEgress(ctx, in, o...)
}

// TestEnsureGroupWaitsOutANewGroupNotFound: the rules of a group made a
// moment ago are set once EC2 knows it, not failed on its NotFound.
func TestEnsureGroupWaitsOutANewGroupNotFound(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	f := &newGroupUnknown{isolateEC2: hw.clients.EC2(""), calls: map[string]int{}}
	for _, spec := range []groupSpec{conversionSpec(), isolationSpec()} {
		id, err := ensureGroup(ctx, f, enginetest.NewEvidence(), hw.w.VPCID, "cr-new", spec)
		if err != nil {
			t.Fatalf("ensureGroup %s: %v", spec.name, err)
		}
		g := hw.group(t, ctx, id)
		if spec.egress == nil && len(g.IpPermissionsEgress) != 0 {
			t.Errorf("%s egress: got %v, want none", spec.name, g.IpPermissionsEgress)
		}
		if spec.ingress != nil && !allCIDRs(g.IpPermissions)["::/0"] {
			t.Errorf("%s ingress: got %v, want all traffic", spec.name, g.IpPermissions)
		}
	}
	if f.calls["ingress"] != 3 || f.calls["revoke-egress"] != 3 {
		t.Errorf("calls: got %v, want each rule call tried 3 times", f.calls)
	}
}
