package ec2

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// copyAndShare makes the optional KMS-encrypted copies (found again by
// their copy-of tag on a rerun) and shares the final snapshots with another
// account. It returns snapshot id -> copy id.
func (a *snapshot) copyAndShare(ctx context.Context, api snapshotAPI, in *engine.StepInput, p snapshotParams, region string, set snapSet) (map[string]any, error) {
	key, account, instance, timeout := p.CopyToKMSKey, p.ShareWithAccount, p.InstanceID, p.WaitTimeout
	if account != "" && !accountIDPattern.MatchString(account) {
		return nil, fmt.Errorf("snapshot: share_with_account %q is not a 12-digit AWS account id", account)
	}
	copies := map[string]any{}
	final := set.ids()
	if key != "" {
		vols := map[string]string{}
		for v, s := range set {
			vols[s] = v
		}
		final = final[:0:0]
		for _, src := range set.ids() {
			c, err := ensureCopy(ctx, api, in, region, instance, vols[src], src, key)
			if err != nil {
				return nil, err
			}
			copies[src] = c
			final = append(final, c)
		}
		done, err := a.waitCompleted(ctx, api, final, timeout)
		if err != nil {
			return nil, err
		}
		for _, s := range done {
			art := snapshotArtifact(in, region, instance, s)
			art.Kind = "ebs-snapshot-copy"
			if err := in.Evidence.Record(ctx, art); err != nil {
				return nil, fmt.Errorf("snapshot: recording copy %q in the evidence: %w", aws.ToString(s.SnapshotId), err)
			}
		}
	}
	if account == "" {
		return copies, nil
	}
	for _, id := range final {
		_, err := api.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{
			SnapshotId: aws.String(id), Attribute: types.SnapshotAttributeNameCreateVolumePermission,
			OperationType: types.OperationTypeAdd, UserIds: []string{account},
		})
		if err != nil {
			return nil, fmt.Errorf("snapshot: sharing %q with account %q: %w", id, account, awsapi.Classify(err))
		}
	}
	detail := map[string]any{"call": "ec2:ModifySnapshotAttribute", "snapshots": final, "account": account}
	if err := in.Evidence.Event(ctx, "aws-change", detail); err != nil {
		return nil, fmt.Errorf("snapshot: recording the change: %w", err)
	}
	return copies, nil
}

// ensureCopy returns the case's encrypted copy of snapshot src, making it
// when there is none that is usable.
//
// CopySnapshot takes no client token, so like CreateSnapshots it is made
// without the SDK's retries: a retry of a call whose answer was lost after
// EC2 acted would make a second copy. A transient failure is retried here,
// after looking for the copy by its copy-of tag (which goes on in the call
// itself).
func ensureCopy(ctx context.Context, api snapshotAPI, in *engine.StepInput, region, instance, volume, src, key string) (string, error) {
	if id, err := findCopy(ctx, api, in.CaseID, src); id != "" || err != nil {
		return id, err
	}
	tags := []types.Tag{
		{Key: aws.String(awsapi.TagCase), Value: aws.String(in.CaseID)},
		{Key: aws.String(snapTagInstance), Value: aws.String(instance)},
		{Key: aws.String(snapTagVolume), Value: aws.String(volume)},
		{Key: aws.String(snapTagCopyOf), Value: aws.String(src)},
	}
	var id string
	for attempt := 1; ; attempt++ {
		cp, err := api.CopySnapshot(ctx, &ec2.CopySnapshotInput{
			SourceSnapshotId: aws.String(src), SourceRegion: aws.String(region),
			Encrypted: aws.Bool(true), KmsKeyId: aws.String(key),
			Description:       aws.String(fmt.Sprintf("firebreak case %s: copy of %s (volume %s)", in.CaseID, src, volume)),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: tags}},
		}, noSDKRetry)
		if err == nil {
			id = aws.ToString(cp.SnapshotId)
			break
		}
		err = awsapi.Classify(err)
		if !engine.IsRetryable(err) || attempt == createAttempts {
			return "", fmt.Errorf("snapshot: copying %q with KMS key %q: %w", src, key, err)
		}
		t := time.NewTimer(time.Duration(100+rand.IntN(400)) * time.Millisecond << attempt)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("snapshot: copying %q with KMS key %q: %w", src, key, errors.Join(err, context.Cause(ctx)))
		case <-t.C:
		}
		if found, ferr := findCopy(ctx, api, in.CaseID, src); ferr == nil && found != "" {
			id = found
			break
		}
	}
	detail := map[string]any{"call": "ec2:CopySnapshot", "source": src, "copy": id, "kms_key_id": key}
	if err := in.Evidence.Event(ctx, "aws-change", detail); err != nil {
		return "", fmt.Errorf("snapshot: recording the change: %w", err)
	}
	return id, nil
}

// findCopy returns the case's usable copy of src, or "".
func findCopy(ctx context.Context, api snapshotAPI, caseID, src string) (string, error) {
	out, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters: []types.Filter{
			{Name: aws.String("tag:" + awsapi.TagCase), Values: []string{caseID}},
			{Name: aws.String("tag:" + snapTagCopyOf), Values: []string{src}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("snapshot: looking for the copy of %q: %w", src, awsapi.Classify(err))
	}
	for _, s := range out.Snapshots {
		if s.State != types.SnapshotStateError {
			return aws.ToString(s.SnapshotId), nil
		}
	}
	return "", nil
}
