package ec2

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// ensureSnapshots returns the case's snapshot of every volume, taking them
// only when the case has none yet. reused is true when nothing was taken.
// A volume that has no snapshot while others do (attached since, or its
// snapshot failed) gets a single-volume snapshot, and the gap in crash
// consistency is recorded as a custody event.
func (a *snapshot) ensureSnapshots(ctx context.Context, api snapshotAPI, in *engine.StepInput, id string, volumes []string) (snapSet, bool, error) {
	set, tagged, err := findCaseSnapshots(ctx, api, in.CaseID, id)
	if err != nil {
		return nil, false, err
	}
	reused := len(set) > 0 && len(missingFrom(volumes, set)) == 0
	if len(set) == 0 {
		if err := createSet(ctx, api, in, id, set); err != nil {
			return nil, false, err
		}
	}
	// Recomputed after createSet: when its answer was lost, the set it
	// adopted came from a tag look-up, which is eventually consistent and
	// may hold only part of the snapshots taken.
	if missing := missingFrom(volumes, set); len(missing) > 0 {
		if err := createMissing(ctx, api, in, id, missing, set); err != nil {
			return nil, false, err
		}
	}
	// A crash between CreateSnapshots and here leaves snapshots without
	// their volume tag; the snapshot's own VolumeId is authoritative, the
	// tag is for people browsing the console.
	for _, v := range engine.SortedKeys(set) {
		if tagged[set[v]] {
			continue
		}
		_, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{set[v]},
			Tags: []types.Tag{{Key: aws.String(snapTagVolume), Value: aws.String(v)}}})
		if err != nil {
			return nil, false, fmt.Errorf("snapshot: tagging %q with its volume: %w", set[v], awsapi.Classify(err))
		}
	}
	return set, reused, nil
}

// missingFrom lists the volumes that have no snapshot in set.
func missingFrom(volumes []string, set snapSet) []string {
	var missing []string
	for _, v := range volumes {
		if _, ok := set[v]; !ok {
			missing = append(missing, v)
		}
	}
	return missing
}

// snapSpec is how every snapshot of the case is described and tagged; the
// case and instance tags are what a rerun finds them by, so they go on in
// the create call itself, never in a later one that a crash could skip.
func snapSpec(in *engine.StepInput, id string) (*string, []types.TagSpecification) {
	tags := []types.Tag{{Key: aws.String(awsapi.TagCase), Value: aws.String(in.CaseID)}, {Key: aws.String(snapTagInstance), Value: aws.String(id)}}
	return aws.String(fmt.Sprintf("firebreak case %s: instance %s", in.CaseID, id)),
		[]types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: tags}}
}

// createSet snapshots every attached volume in one crash-consistent call.
func createSet(ctx context.Context, api snapshotAPI, in *engine.StepInput, id string, set snapSet) error {
	desc, tags := snapSpec(in, id)
	err := createUnrepeated(ctx, api, in, id, func() error {
		out, err := api.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{
			InstanceSpecification: &types.InstanceSpecification{InstanceId: aws.String(id), ExcludeBootVolume: aws.Bool(false)},
			Description:           desc, TagSpecifications: tags,
		}, noSDKRetry)
		for _, s := range outSnapshots(out) {
			set[aws.ToString(s.VolumeId)] = aws.ToString(s.SnapshotId)
		}
		return err
	}, func(found snapSet) bool {
		maps.Copy(set, found)
		return len(found) > 0
	})
	if err != nil {
		return fmt.Errorf("snapshot: creating snapshots of instance %q: %w", id, err)
	}
	if err := in.Evidence.Event(ctx, "aws-change", map[string]any{"call": "ec2:CreateSnapshots", "instance_id": id, "snapshots": set.volumesAny()}); err != nil {
		return fmt.Errorf("snapshot: recording the change: %w", err)
	}
	return nil
}

// noSDKRetry turns the SDK's own retries off for one call.
func noSDKRetry(o *ec2.Options) { o.RetryMaxAttempts = 1 }

func outSnapshots(out *ec2.CreateSnapshotsOutput) []types.SnapshotInfo {
	if out == nil {
		return nil
	}
	return out.Snapshots
}

// createAttempts bounds createUnrepeated's own tries.
const createAttempts = 5

// createUnrepeated runs create (a call made with noSDKRetry) and retries a
// transient failure itself, looking for the case's snapshots before each
// new try; adopt takes what the lookup found and says whether that is
// enough. CreateSnapshots and CreateSnapshot take no client token, so the
// SDK's retry of a call whose answer was lost after EC2 acted on it (a
// dropped connection, a 5xx from a front end) took a second set of
// snapshots (seen with internal/faultproxy); a lookup by the case tags,
// which go on in the create call itself, finds the first set instead.
func createUnrepeated(ctx context.Context, api snapshotAPI, in *engine.StepInput, id string, create func() error, adopt func(snapSet) bool) error {
	for attempt := 1; ; attempt++ {
		err := awsapi.Classify(create())
		if err == nil || !engine.IsRetryable(err) || attempt == createAttempts {
			return err
		}
		t := time.NewTimer(time.Duration(100+rand.IntN(400)) * time.Millisecond << attempt)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, context.Cause(ctx))
		case <-t.C:
		}
		found, _, ferr := findCaseSnapshots(ctx, api, in.CaseID, id)
		if ferr == nil && adopt(found) {
			return nil
		}
	}
}

// createMissing snapshots the volumes the case's set lacks, one by one.
func createMissing(ctx context.Context, api snapshotAPI, in *engine.StepInput, id string, missing []string, set snapSet) error {
	desc, tags := snapSpec(in, id)
	for _, v := range missing {
		err := createUnrepeated(ctx, api, in, id, func() error {
			out, err := api.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(v), Description: desc, TagSpecifications: tags}, noSDKRetry)
			if err == nil {
				set[v] = aws.ToString(out.SnapshotId)
			}
			return err
		}, func(found snapSet) bool {
			if sid, ok := found[v]; ok {
				set[v] = sid
			}
			return found[v] != ""
		})
		if err != nil {
			return fmt.Errorf("snapshot: creating a snapshot of volume %q: %w", v, err)
		}
	}
	detail := map[string]any{"call": "ec2:CreateSnapshot", "instance_id": id, "volumes": missing,
		"note": "taken after the rest of the case's snapshots: not crash-consistent with them"}
	if err := in.Evidence.Event(ctx, "aws-change", detail); err != nil {
		return fmt.Errorf("snapshot: recording the change: %w", err)
	}
	return nil
}

// findCaseSnapshots returns the case's usable snapshots of instance id by
// volume (the earliest when there are several), and which of them already
// carry their volume tag. Failed snapshots and KMS copies do not count.
func findCaseSnapshots(ctx context.Context, api snapshotAPI, caseID, id string) (snapSet, map[string]bool, error) {
	p := ec2.NewDescribeSnapshotsPaginator(api, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters: []types.Filter{
			{Name: aws.String("tag:" + awsapi.TagCase), Values: []string{caseID}},
			{Name: aws.String("tag:" + snapTagInstance), Values: []string{id}},
		},
	})
	var all []types.Snapshot
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot: looking for case %q snapshots of %q: %w", caseID, id, awsapi.Classify(err))
		}
		all = append(all, page.Snapshots...)
	}
	sort.SliceStable(all, func(i, j int) bool { return aws.ToTime(all[i].StartTime).Before(aws.ToTime(all[j].StartTime)) })
	set, tagged := snapSet{}, map[string]bool{}
	for _, s := range all {
		if s.State == types.SnapshotStateError || snapTag(s.Tags, snapTagCopyOf) != "" {
			continue
		}
		v := aws.ToString(s.VolumeId)
		if _, dup := set[v]; dup {
			continue
		}
		set[v] = aws.ToString(s.SnapshotId)
		tagged[set[v]] = snapTag(s.Tags, snapTagVolume) == v
	}
	return set, tagged, nil
}

func snapTag(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// waitCompleted polls until every snapshot in ids is completed, one fails,
// timeout passes or ctx ends. It returns the snapshots in the order of ids.
func (a *snapshot) waitCompleted(ctx context.Context, api snapshotAPI, ids []string, timeout time.Duration) ([]types.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := a.poll
	if delay <= 0 {
		delay = 5 * time.Second
	}
	// Right after CreateSnapshots, EC2 may not know the new ids yet
	// (eventual consistency): NotFound is pending for a while, not gone.
	settling := time.Now().Add(settleBackoff.budget)
	for {
		out, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: ids})
		young := time.Now().Before(settling)
		if awsapi.IsNotFound(err) && young {
			err, out = nil, nil
		}
		if err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("snapshot: checking progress of %s: %w", strings.Join(ids, ", "), awsapi.Classify(err))
		}
		var pending []string
		if err == nil && out != nil {
			byID := map[string]types.Snapshot{}
			for _, s := range out.Snapshots {
				byID[aws.ToString(s.SnapshotId)] = s
			}
			done := make([]types.Snapshot, 0, len(ids))
			for _, id := range ids {
				s, ok := byID[id]
				switch {
				case !ok && young:
					pending = append(pending, id+" not visible yet")
					continue
				case !ok:
					return nil, fmt.Errorf("snapshot: %q has disappeared while waiting for it: rerun the step to take a new one", id)
				case s.State == types.SnapshotStateError:
					return nil, fmt.Errorf("snapshot: %q of volume %q failed (%s): rerun the step to take a new one", id, aws.ToString(s.VolumeId), aws.ToString(s.StateMessage))
				case s.State != types.SnapshotStateCompleted:
					pending = append(pending, fmt.Sprintf("%s %s", id, aws.ToString(s.Progress)))
				}
				done = append(done, s)
			}
			if len(pending) == 0 {
				return done, nil
			}
		}
		if pending == nil {
			pending = ids
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("snapshot: still pending (%s): resume or rerun the step to keep waiting, no second set will be taken: %w",
				strings.Join(pending, ", "), context.Cause(ctx))
		case <-t.C:
		}
		delay = min(delay*2, 30*time.Second)
	}
}
