package ec2

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// snapPollFake answers DescribeSnapshots from a script of states, one per
// poll; the last state repeats. Other calls are not expected.
type snapPollFake struct {
	snapshotAPI
	states []types.SnapshotState
	polls  int
}

func (f *snapPollFake) DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	st := f.states[min(f.polls, len(f.states)-1)]
	f.polls++
	return &ec2.DescribeSnapshotsOutput{Snapshots: []types.Snapshot{
		{SnapshotId: aws.String("snap-1"), VolumeId: aws.String("vol-1"), State: st, Progress: aws.String("50%"), StateMessage: aws.String("internal error")},
	}}, nil
}

func TestSnapshotWaitCompleted(t *testing.T) {
	t.Parallel()
	p, c, e := types.SnapshotStatePending, types.SnapshotStateCompleted, types.SnapshotStateError
	tests := []struct {
		name      string
		states    []types.SnapshotState
		timeout   time.Duration
		wantPolls int
		wantErr   string
	}{
		{name: "completed at once", states: []types.SnapshotState{c}, timeout: time.Hour, wantPolls: 1},
		{name: "pending then completed", states: []types.SnapshotState{p, p, p, c}, timeout: time.Hour, wantPolls: 4},
		{name: "fails", states: []types.SnapshotState{p, e}, timeout: time.Hour, wantPolls: 2,
			wantErr: `snapshot: "snap-1" of volume "vol-1" failed (internal error): rerun the step to take a new one`},
		{name: "never completes", states: []types.SnapshotState{p}, timeout: time.Millisecond,
			wantErr: "snapshot: still pending (snap-1 50%): resume or rerun the step to keep waiting, no second set will be taken: context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &snapPollFake{states: tt.states}
			a := &snapshot{poll: time.Nanosecond}
			done, err := a.waitCompleted(context.Background(), f, []string{"snap-1"}, tt.timeout)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(done) != 1 || f.polls != tt.wantPolls {
				t.Fatalf("got %v, %d polls, err %v; want snap-1 after %d polls", done, f.polls, err, tt.wantPolls)
			}
		})
	}
}

func TestSnapshotWaitHonoursCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&snapshot{poll: time.Hour}).waitCompleted(ctx, &snapPollFake{states: []types.SnapshotState{types.SnapshotStatePending}}, []string{"snap-1"}, time.Hour)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want an error wrapping context.Canceled", err)
	}
}

func TestSnapshotRefusesBadInput(t *testing.T) {
	w := newSnapWorld(t)
	a := newSnapshotAction(w)
	tests := []struct {
		name, caseID string
		params       engine.Params
		want         string
	}{
		{name: "no case", params: engine.Params{"instance_id": w.instance},
			want: "snapshot: no case id: snapshots are tagged and found by case, run it through a case"},
		{name: "unknown instance", caseID: "cr-x", params: engine.Params{"instance_id": "i-0123456789abcdef0"},
			want: `snapshot: describing instance "i-0123456789abcdef0": `},
		{name: "bad account", caseID: "cr-x", params: engine.Params{"instance_id": w.instance, "share_with_account": "12ab"},
			want: `snapshot: share_with_account "12ab" is not a 12-digit AWS account id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := stepInput(tt.caseID, tt.params)
			_, err := a.Run(testenv.Context(t), in)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got error %v, want it to start %q", err, tt.want)
			}
		})
	}
}

func TestSnapshotCopiesWithKMSAndShares(t *testing.T) {
	w := newSnapWorld(t)
	a := newSnapshotAction(w)
	params := engine.Params{"instance_id": w.instance, "copy_to_kms_key": "alias/evidence", "share_with_account": "111122223333"}
	in, ev := stepInput("cr-copy", params)
	out := mustRun(t, a, in)
	copies := out["copies"].(map[string]any)
	if len(copies) != 2 {
		t.Fatalf("outputs.copies: got %v, want one per snapshot", copies)
	}
	all := w.caseSnapshots(t, "cr-copy")
	if len(all) != 4 {
		t.Fatalf("case snapshots: got %d, want 2 originals + 2 copies", len(all))
	}
	ctx := testenv.Context(t)
	for src, cp := range copies {
		s := all[cp.(string)]
		if tagsOf(s.Tags)["firebreak:copy-of"] != src {
			t.Errorf("copy %v: tags %v, want firebreak:copy-of=%s", cp, tagsOf(s.Tags), src)
		}
		attr, err := w.ec2.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
			SnapshotId: aws.String(cp.(string)), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
		if err != nil {
			t.Fatalf("DescribeSnapshotAttribute: %v", err)
		}
		if len(attr.CreateVolumePermissions) != 1 || aws.ToString(attr.CreateVolumePermissions[0].UserId) != "111122223333" {
			t.Errorf("copy %v createVolumePermission: got %+v, want account 111122223333", cp, attr.CreateVolumePermissions)
		}
	}
	kinds := map[string]int{}
	for _, r := range ev.Records() {
		kinds[r.Kind]++
	}
	if kinds["ebs-snapshot"] != 2 || kinds["ebs-snapshot-copy"] != 2 {
		t.Errorf("artifacts by kind: got %v, want 2 snapshots and 2 copies", kinds)
	}
	// A rerun finds the copies by tag instead of copying again.
	in2, _ := stepInput("cr-copy", params)
	mustRun(t, a, in2)
	if n := len(w.caseSnapshots(t, "cr-copy")); n != 4 {
		t.Errorf("case snapshots after a rerun: got %d, want still 4", n)
	}
}

// snapListFake answers DescribeSnapshots with a fixed list.
type snapListFake struct {
	snapshotAPI
	list []types.Snapshot
}

func (f *snapListFake) DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	return &ec2.DescribeSnapshotsOutput{Snapshots: f.list}, nil
}

func TestFindCaseSnapshotsSkipsFailedAndCopies(t *testing.T) {
	t.Parallel()
	at := func(min int) *time.Time { x := time.Date(2026, 11, 29, 10, min, 0, 0, time.UTC); return &x }
	snap := func(id, vol string, st types.SnapshotState, min int, tags ...string) types.Snapshot {
		s := types.Snapshot{SnapshotId: aws.String(id), VolumeId: aws.String(vol), State: st, StartTime: at(min)}
		for i := 0; i+1 < len(tags); i += 2 {
			s.Tags = append(s.Tags, types.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
		}
		return s
	}
	f := &snapListFake{list: []types.Snapshot{
		snap("snap-later", "vol-a", types.SnapshotStateCompleted, 5, snapTagVolume, "vol-a"),
		snap("snap-first", "vol-a", types.SnapshotStatePending, 1),
		snap("snap-failed", "vol-b", types.SnapshotStateError, 0),
		snap("snap-copy", "vol-b", types.SnapshotStateCompleted, 2, snapTagCopyOf, "snap-x"),
		snap("snap-c", "vol-c", types.SnapshotStateCompleted, 3, snapTagVolume, "vol-c"),
	}}
	set, tagged, err := findCaseSnapshots(context.Background(), f, "cr-x", "i-1")
	if err != nil {
		t.Fatal(err)
	}
	want := snapSet{"vol-a": "snap-first", "vol-c": "snap-c"}
	if len(set) != len(want) || set["vol-a"] != want["vol-a"] || set["vol-c"] != want["vol-c"] {
		t.Errorf("set: got %v, want %v (earliest per volume; failed snapshots and copies left out)", set, want)
	}
	if tagged["snap-first"] || !tagged["snap-c"] {
		t.Errorf("volume-tagged: got %v, want snap-c only", tagged)
	}
}
