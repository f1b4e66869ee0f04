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
	"github.com/firebreak-ir/firebreak/internal/awsperm"
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

// CheckBucketName refuses a name evidence-bucket would not create.
func CheckBucketName(name string) error {
	if !bucketNamePattern.MatchString(name) {
		return fmt.Errorf("bucket %q is not a valid name: 3 to 63 lower-case letters, digits and hyphens", name)
	}
	return nil
}

// bucketParams declare evidence-bucket's parameters.
type bucketParams struct {
	Bucket        string `param:"bucket,required" doc:"the bucket name"`
	Region        string `param:"region" default:"" doc:"where to create it; empty: the run's default"`
	KMSKeyID      string `param:"kms_key_id" default:"" doc:"default encryption with this KMS key; empty: AES256"`
	RetentionDays int    `param:"retention_days" default:"365" doc:"Object Lock default retention, governance mode"`
	// ObjectLock is asked for by default: evidence nobody can delete for
	// retention_days. Once on, a bucket's Object Lock cannot be turned off.
	ObjectLock bool `param:"object_lock" default:"true" doc:"create the bucket with Object Lock and hold it to a default retention; false: neither (Object Lock is then not checked)"`
	Fix        bool `param:"fix" default:"false" doc:"on an existing bucket, apply every missing setting"`
	// Strict is true unless set false: evidence kept in a bucket that is
	// not hardened must not pass as kept safely.
	Strict bool `param:"strict" default:"true" doc:"fail the step, naming what is missing, when a setting is still missing; false: report it in the outputs only"`
}

// bucketCalls are the calls evidence-bucket makes.
var bucketCalls = []string{"s3:HeadBucket", "s3:CreateBucket", "s3:GetBucketVersioning", "s3:PutBucketVersioning",
	"s3:GetBucketEncryption", "s3:PutBucketEncryption", "s3:GetPublicAccessBlock", "s3:PutPublicAccessBlock",
	"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetObjectLockConfiguration", "s3:PutObjectLockConfiguration"}

func (*evidenceBucket) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "evidence-bucket",
		Summary: "Create, or check and optionally fix, a hardened evidence bucket: versioning, default encryption, Block Public Access, TLS-only policy, Object Lock",
		Params:  engine.ParamsOf[bucketParams](),
		Outputs: []engine.Output{
			{Name: "bucket", Type: engine.TypeString, Headline: true},
			{Name: "created", Type: engine.TypeBool, Doc: "true when this run created the bucket"},
			{Name: "checks", Type: engine.TypeMap, Doc: "setting -> ok, missing or fixed"},
			{Name: "missing", Type: engine.TypeList, Doc: "what is still missing, with the reason", Headline: true},
			{Name: "hardened", Type: engine.TypeBool, Doc: "true when nothing is missing", Headline: true},
		},
		Calls:       bucketCalls,
		Permissions: awsperm.ForCalls(bucketCalls),
		Mutating:    true,
	}
}

func (a *evidenceBucket) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[bucketParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("evidence-bucket: %w", err)
	}
	b := &bucketWant{name: p.Bucket, kmsKey: p.KMSKeyID, days: p.RetentionDays, noLock: !p.ObjectLock}
	if err := CheckBucketName(b.name); err != nil {
		return nil, fmt.Errorf("evidence-bucket: %w", err)
	}
	if b.days < 1 && !b.noLock {
		return nil, fmt.Errorf("evidence-bucket: retention_days %d: want at least 1", b.days)
	}
	region := p.Region
	api := a.api(region)
	if a.region != nil {
		region = a.region(region)
	}
	created, err := ensureBucket(ctx, api, in, b, region)
	if err != nil {
		return nil, err
	}
	checks, missing, err := harden(ctx, api, in, b, created || p.Fix)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 && p.Strict {
		return nil, fmt.Errorf("evidence-bucket: bucket %q is not hardened, missing: %s; rerun with fix: true to apply them, or set strict: false to accept the bucket as it is", b.name, joinMissing(missing))
	}
	return engine.Outputs{"bucket": b.name, "created": created, "checks": checks, "missing": missing, "hardened": len(missing) == 0}, nil
}

// joinMissing lists the missing settings for an error message.
func joinMissing(missing []any) string {
	parts := make([]string, len(missing))
	for i, m := range missing {
		parts[i] = fmt.Sprint(m)
	}
	return strings.Join(parts, "; ")
}

// ensureBucket creates the bucket, with Object Lock unless b declines it
// (it is simplest to have from creation), unless it exists and is
// reachable.
func ensureBucket(ctx context.Context, api bucketAPI, in *engine.StepInput, b *bucketWant, region string) (bool, error) {
	name := b.name
	_, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	if err == nil {
		return false, nil
	}
	if !awsapi.IsNotFound(err) {
		return false, fmt.Errorf("evidence-bucket: bucket %q exists but is not reachable (another account's, or no s3:ListBucket): %w", name, awsapi.Classify(err))
	}
	cb := &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(!b.noLock)}
	if region != "" && region != "us-east-1" {
		cb.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
	}
	if _, err := api.CreateBucket(ctx, cb); err != nil {
		if awsapi.Code(err) == "BucketAlreadyOwnedByYou" {
			return false, nil
		}
		return false, fmt.Errorf("evidence-bucket: creating bucket %q in %q: %w", name, region, awsapi.Classify(err))
	}
	if err := in.Evidence.Event(ctx, "aws-change", map[string]any{"call": "s3:CreateBucket", "bucket": name, "region": region, "object_lock": !b.noLock}); err != nil {
		return true, fmt.Errorf("evidence-bucket: recording the change: %w", err)
	}
	return true, nil
}
