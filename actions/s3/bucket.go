package s3

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// bucketAPI is what evidence-bucket needs from S3; *s3.Client has it.
type bucketAPI interface {
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, opts ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, opts ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, opts ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput, opts ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, opts ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	PutBucketEncryption(ctx context.Context, in *s3.PutBucketEncryptionInput, opts ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, opts ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, opts ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, opts ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, opts ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	GetObjectLockConfiguration(ctx context.Context, in *s3.GetObjectLockConfigurationInput, opts ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error)
	PutObjectLockConfiguration(ctx context.Context, in *s3.PutObjectLockConfigurationInput, opts ...func(*s3.Options)) (*s3.PutObjectLockConfigurationOutput, error)
}

// evidenceBucket creates a hardened evidence bucket, or checks an existing
// one setting by setting and, with fix, repairs what is missing. Running it
// again changes nothing on a bucket that passes every check.
type evidenceBucket struct {
	api    func(region string) bucketAPI
	region func(region string) string
}

var _ engine.Action = (*evidenceBucket)(nil)

func registerEvidenceBucket(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&evidenceBucket{api: func(region string) bucketAPI { return c.S3(region) }, region: c.Region})
}

// bucketNamePattern is S3's rule for new bucket names (no dots: virtual-host
// TLS breaks on them).
var bucketNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

func (*evidenceBucket) Spec() engine.ActionSpec {
	calls := []string{"s3:HeadBucket", "s3:CreateBucket", "s3:GetBucketVersioning", "s3:PutBucketVersioning",
		"s3:GetBucketEncryption", "s3:PutBucketEncryption", "s3:GetPublicAccessBlock", "s3:PutPublicAccessBlock",
		"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetObjectLockConfiguration", "s3:PutObjectLockConfiguration"}
	return engine.ActionSpec{
		Name:    "evidence-bucket",
		Summary: "Create, or check and optionally fix, a hardened evidence bucket: versioning, default encryption, Block Public Access, TLS-only policy, Object Lock",
		Params: []engine.Param{
			{Name: "bucket", Type: engine.TypeString, Required: true, Doc: "the bucket name"},
			{Name: "region", Type: engine.TypeString, Default: "", Doc: "where to create it; empty: the run's default"},
			{Name: "kms_key_id", Type: engine.TypeString, Default: "", Doc: "default encryption with this KMS key; empty: AES256"},
			{Name: "retention_days", Type: engine.TypeInt, Default: 365, Doc: "Object Lock default retention, governance mode"},
			{Name: "fix", Type: engine.TypeBool, Default: false, Doc: "on an existing bucket, apply every missing setting"},
			{Name: "strict", Type: engine.TypeBool, Default: true, Doc: "fail the step, naming what is missing, when a setting is still missing; false: report it in the outputs only"},
		},
		Outputs: []engine.Output{
			{Name: "bucket", Type: engine.TypeString},
			{Name: "created", Type: engine.TypeBool, Doc: "true when this run created the bucket"},
			{Name: "checks", Type: engine.TypeMap, Doc: "setting -> ok, missing or fixed"},
			{Name: "missing", Type: engine.TypeList, Doc: "what is still missing, with the reason"},
			{Name: "hardened", Type: engine.TypeBool, Doc: "true when nothing is missing"},
		},
		Calls:       calls,
		Permissions: bucketPermissions(calls),
		Mutating:    true,
	}
}

// bucketPermissions maps calls to IAM actions: HeadBucket is authorised by
// s3:ListBucket, and the Put/Get of encryption and the public access block
// by their "Configuration" actions.
func bucketPermissions(calls []string) []string {
	rename := map[string]string{
		"s3:HeadBucket":                 "s3:ListBucket",
		"s3:GetBucketEncryption":        "s3:GetEncryptionConfiguration",
		"s3:PutBucketEncryption":        "s3:PutEncryptionConfiguration",
		"s3:GetPublicAccessBlock":       "s3:GetBucketPublicAccessBlock",
		"s3:PutPublicAccessBlock":       "s3:PutBucketPublicAccessBlock",
		"s3:GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
		"s3:PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
	}
	out := make([]string, len(calls))
	for i, c := range calls {
		if p, ok := rename[c]; ok {
			c = p
		}
		out[i] = c
	}
	return out
}

func (a *evidenceBucket) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	b := &bucketWant{name: in.Params.String("bucket"), kmsKey: in.Params.String("kms_key_id"), days: in.Params.Int("retention_days")}
	if !in.Params.Has("retention_days") {
		b.days = 365
	}
	if !bucketNamePattern.MatchString(b.name) {
		return nil, fmt.Errorf("evidence-bucket: bucket %q is not a valid name: 3 to 63 lower-case letters, digits and hyphens", b.name)
	}
	if b.days < 1 {
		return nil, fmt.Errorf("evidence-bucket: retention_days %d: want at least 1", b.days)
	}
	region := in.Params.String("region")
	api := a.api(region)
	if a.region != nil {
		region = a.region(region)
	}
	created, err := ensureBucket(ctx, api, in, b.name, region)
	if err != nil {
		return nil, err
	}
	checks, missing, err := harden(ctx, api, in, b, created || in.Params.Bool("fix"))
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 && strict(in.Params) {
		return nil, fmt.Errorf("evidence-bucket: bucket %q is not hardened, missing: %s; rerun with fix: true to apply them, or set strict: false to accept the bucket as it is", b.name, joinMissing(missing))
	}
	return engine.Outputs{"bucket": b.name, "created": created, "checks": checks, "missing": missing, "hardened": len(missing) == 0}, nil
}

// strict is the strict parameter, true unless set false: evidence kept in a
// bucket that is not hardened must not pass as kept safely.
func strict(p engine.Params) bool {
	return !p.Has("strict") || p.Bool("strict")
}

// joinMissing lists the missing settings for an error message.
func joinMissing(missing []any) string {
	parts := make([]string, len(missing))
	for i, m := range missing {
		parts[i] = fmt.Sprint(m)
	}
	return strings.Join(parts, "; ")
}

// ensureBucket creates the bucket, with Object Lock (which is simplest to
// have from creation), unless it exists and is reachable.
func ensureBucket(ctx context.Context, api bucketAPI, in *engine.StepInput, name, region string) (bool, error) {
	_, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	if err == nil {
		return false, nil
	}
	if !awsapi.IsNotFound(err) {
		return false, fmt.Errorf("evidence-bucket: bucket %q exists but is not reachable (another account's, or no s3:ListBucket): %w", name, awsapi.Classify(err))
	}
	cb := &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)}
	if region != "" && region != "us-east-1" {
		cb.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
	}
	if _, err := api.CreateBucket(ctx, cb); err != nil {
		if awsapi.Code(err) == "BucketAlreadyOwnedByYou" {
			return false, nil
		}
		return false, fmt.Errorf("evidence-bucket: creating bucket %q in %q: %w", name, region, awsapi.Classify(err))
	}
	if err := in.Evidence.Event(ctx, "aws-change", map[string]any{"call": "s3:CreateBucket", "bucket": name, "region": region, "object_lock": true}); err != nil {
		return true, fmt.Errorf("evidence-bucket: recording the change: %w", err)
	}
	return true, nil
}
