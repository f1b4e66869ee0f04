package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// bucketWant is the hardening asked for.
type bucketWant struct {
	name   string
	kmsKey string // empty: AES256
	days   int
	noLock bool // object_lock: false: no Object Lock asked for, none checked
}

// asks reports whether b asks for h.
func (b *bucketWant) asks(h hardening) bool {
	return h.name != "object_lock" || !b.noLock
}

// hardening is one setting: how to check it and how to apply it. check
// returns "" when the bucket has it, else what is missing.
type hardening struct {
	name  string
	call  string
	check func(ctx context.Context, api bucketAPI, b *bucketWant) (string, error)
	apply func(ctx context.Context, api bucketAPI, b *bucketWant) error
}

// hardenings are applied in this order: the public access block before
// any policy, versioning before Object Lock's retention.
var hardenings = []hardening{
	{"public_access_block", "s3:PutPublicAccessBlock", checkPublicAccessBlock, applyPublicAccessBlock},
	{"encryption", "s3:PutBucketEncryption", checkEncryption, applyEncryption},
	{"versioning", "s3:PutBucketVersioning", checkVersioning, applyVersioning},
	{"object_lock", "s3:PutObjectLockConfiguration", checkObjectLock, applyObjectLock},
	{"tls_only", "s3:PutBucketPolicy", checkTLSOnly, applyTLSOnly},
}

// harden checks every setting and, when fix is set, applies each missing
// one and checks it again. It returns name -> ok|missing|fixed and the
// settings still missing, each with its reason.
func harden(ctx context.Context, api bucketAPI, in *engine.StepInput, b *bucketWant, fix bool) (map[string]any, []any, error) {
	checks := map[string]any{}
	missing := []any{}
	for _, h := range hardenings {
		if !b.asks(h) {
			continue
		}
		why, err := h.check(ctx, api, b)
		if err != nil {
			return nil, nil, fmt.Errorf("evidence-bucket: checking %s of %q: %w", h.name, b.name, awsapi.Classify(err))
		}
		if why == "" {
			checks[h.name] = "ok"
			continue
		}
		if fix {
			if err := awsapi.Classify(h.apply(ctx, api, b)); engine.IsRetryable(err) {
				return nil, nil, fmt.Errorf("evidence-bucket: setting %s on %q: %w", h.name, b.name, err)
			} else if err != nil {
				// One refused fix (Object Lock on an old bucket, say) must
				// not hide the state of the other settings.
				checks[h.name] = "missing"
				missing = append(missing, fmt.Sprintf("%s: %s; the fix was refused: %v", h.name, why, err))
				continue
			}
			detail := map[string]any{"call": h.call, "bucket": b.name, "was": why}
			if err := in.Evidence.Event(ctx, "aws-change", detail); err != nil {
				return nil, nil, fmt.Errorf("evidence-bucket: recording the change: %w", err)
			}
			if why, err = h.check(ctx, api, b); err != nil {
				return nil, nil, fmt.Errorf("evidence-bucket: checking %s of %q: %w", h.name, b.name, awsapi.Classify(err))
			}
			if why == "" {
				checks[h.name] = "fixed"
				continue
			}
			why = "still missing after the fix: " + why
		}
		checks[h.name] = "missing"
		missing = append(missing, h.name+": "+why)
	}
	return checks, missing, nil
}

func checkVersioning(ctx context.Context, api bucketAPI, b *bucketWant) (string, error) {
	out, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b.name)})
	if err != nil {
		return "", err
	}
	if out.Status != types.BucketVersioningStatusEnabled {
		return fmt.Sprintf("versioning is %q, want Enabled", string(out.Status)), nil
	}
	return "", nil
}

func applyVersioning(ctx context.Context, api bucketAPI, b *bucketWant) error {
	_, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b.name),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	return err
}

func checkEncryption(ctx context.Context, api bucketAPI, b *bucketWant) (string, error) {
	out, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b.name)})
	if awsapi.Code(err) == "ServerSideEncryptionConfigurationNotFoundError" {
		return "no default encryption", nil
	}
	if err != nil {
		return "", err
	}
	for _, r := range out.ServerSideEncryptionConfiguration.Rules {
		d := r.ApplyServerSideEncryptionByDefault
		if d == nil {
			continue
		}
		if b.kmsKey == "" || (d.SSEAlgorithm == types.ServerSideEncryptionAwsKms && aws.ToString(d.KMSMasterKeyID) == b.kmsKey) {
			return "", nil
		}
		return fmt.Sprintf("default encryption is %s with key %q, want aws:kms with key %q", d.SSEAlgorithm, aws.ToString(d.KMSMasterKeyID), b.kmsKey), nil
	}
	return "no default encryption rule", nil
}

func applyEncryption(ctx context.Context, api bucketAPI, b *bucketWant) error {
	def := &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}
	if b.kmsKey != "" {
		def = &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(b.kmsKey)}
	}
	_, err := api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(b.name),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{
			{ApplyServerSideEncryptionByDefault: def, BucketKeyEnabled: aws.Bool(b.kmsKey != "")},
		}}})
	return err
}

func checkPublicAccessBlock(ctx context.Context, api bucketAPI, b *bucketWant) (string, error) {
	out, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b.name)})
	if awsapi.Code(err) == "NoSuchPublicAccessBlockConfiguration" {
		return "no Block Public Access configuration", nil
	}
	if err != nil {
		return "", err
	}
	c := out.PublicAccessBlockConfiguration
	var off []string
	for _, f := range []struct {
		name string
		on   *bool
	}{{"BlockPublicAcls", c.BlockPublicAcls}, {"IgnorePublicAcls", c.IgnorePublicAcls},
		{"BlockPublicPolicy", c.BlockPublicPolicy}, {"RestrictPublicBuckets", c.RestrictPublicBuckets}} {
		if !aws.ToBool(f.on) {
			off = append(off, f.name)
		}
	}
	if len(off) > 0 {
		return "Block Public Access settings off: " + strings.Join(off, ", "), nil
	}
	return "", nil
}

func applyPublicAccessBlock(ctx context.Context, api bucketAPI, b *bucketWant) error {
	_, err := api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(b.name),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true),
			IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
	return err
}

func checkObjectLock(ctx context.Context, api bucketAPI, b *bucketWant) (string, error) {
	out, err := api.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(b.name)})
	if awsapi.Code(err) == "ObjectLockConfigurationNotFoundError" {
		return "Object Lock is not enabled", nil
	}
	if err != nil {
		return "", err
	}
	c := out.ObjectLockConfiguration
	if c == nil || c.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		return "Object Lock is not enabled", nil
	}
	if c.Rule == nil || c.Rule.DefaultRetention == nil {
		return "Object Lock has no default retention", nil
	}
	r := c.Rule.DefaultRetention
	days := int(aws.ToInt32(r.Days)) + 365*int(aws.ToInt32(r.Years))
	if days < b.days {
		return fmt.Sprintf("default retention is %s %d days, want at least %d", r.Mode, days, b.days), nil
	}
	return "", nil
}

func applyObjectLock(ctx context.Context, api bucketAPI, b *bucketWant) error {
	// On a bucket made without Object Lock, AWS enables it here as long as
	// versioning is on (applied just before).
	_, err := api.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String(b.name),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeGovernance, Days: aws.Int32(int32(b.days))}}}})
	return err
}
