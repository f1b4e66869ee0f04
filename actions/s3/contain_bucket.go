package s3

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// bucketOps is what contain-bucket and release-bucket need from S3;
// *s3.Client has it.
type bucketOps interface {
	configAPI
	PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, opts ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	DeleteBucketPolicy(ctx context.Context, in *s3.DeleteBucketPolicyInput, opts ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error)
	PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, opts ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	DeletePublicAccessBlock(ctx context.Context, in *s3.DeletePublicAccessBlockInput, opts ...func(*s3.Options)) (*s3.DeletePublicAccessBlockOutput, error)
	PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput, opts ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	PutBucketLogging(ctx context.Context, in *s3.PutBucketLoggingInput, opts ...func(*s3.Options)) (*s3.PutBucketLoggingOutput, error)
	PutBucketTagging(ctx context.Context, in *s3.PutBucketTaggingInput, opts ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
	DeleteBucketTagging(ctx context.Context, in *s3.DeleteBucketTaggingInput, opts ...func(*s3.Options)) (*s3.DeleteBucketTaggingOutput, error)
}

// containBucket contains a bucket suspected of exposure or abuse, after
// recording its configuration: Block Public Access on, a deny for the
// suspects (or everyone but the responder) added to its policy without
// losing a statement, versioning on (so overwrites and deletes keep the
// old versions), and server access logs sent to a log bucket.
//
// It is idempotent: the state before is kept in prev tags on the bucket
// (written once) and the statements it adds carry Sids of its own, so a
// rerun or a resume changes nothing that is already as wanted.
type containBucket struct {
	api    func(region string) bucketOps
	region func(region string) string
	caller func(ctx context.Context) (string, error)
}

var _ engine.Action = (*containBucket)(nil)

// containBucketParams declare contain-bucket's parameters.
type containBucketParams struct {
	Bucket              string   `param:"bucket,required" doc:"the bucket to contain"`
	Region              string   `param:"region" default:"" doc:"the bucket's region; empty: the run's default"`
	DenyPrincipals      []string `param:"deny_principals" doc:"IAM ARNs denied every S3 action on the bucket (the suspects); a user or role ARN without a path matches it under any path"`
	DenyAllButResponder bool     `param:"deny_all_but_responder" default:"false" doc:"also deny every S3 action on the bucket to everyone but the role or user the run acts as and except_principals (services included: replication and deliveries into the bucket stop); the account root can still delete the policy"`
	ExceptPrincipals    []string `param:"except_principals" doc:"IAM ARNs spared by deny_all_but_responder (a break-glass role)"`
	Versioning          bool     `param:"versioning" default:"true" doc:"turn versioning on, so overwrites and deletes from now on keep the old versions"`
	LogBucket           string   `param:"log_bucket" default:"" doc:"send server access logs here (same account and region, no Object Lock default retention, SSE-S3: S3 delivers to nothing else); its policy gets a grant for the logging service, for this bucket only; empty: logging is left as it is"`
	LogPrefix           string   `param:"log_prefix" default:"s3-access-logs/" doc:"where the logs go in log_bucket; the bucket's name and a slash are added"`
	Force               bool     `param:"force" default:"false" doc:"deny even when the run itself acts as one of deny_principals (it then loses the bucket too)"`
}

// bucketNameRule is S3's bucket naming rule (dots allowed: existing
// buckets may have them).
var bucketNameRule = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// bucketGrant narrows the bucket actions' S3 permissions to buckets:
// none of them reads or writes an object.
func bucketGrant(perms []string) []engine.Grant {
	var actions []string
	for _, p := range perms {
		if strings.HasPrefix(p, "s3:") {
			actions = append(actions, p)
		}
	}
	return []engine.Grant{{Statement: "S3BucketsNotObjects", Actions: actions, Resource: []string{"arn:aws:s3:::*"}}}
}

func registerBucketActions(r *engine.Registry, c *awsapi.Clients) {
	api := func(region string) bucketOps { return c.S3(region) }
	caller := func(ctx context.Context) (string, error) { return awsapi.CallerARN(ctx, c) }
	r.Register(&containBucket{api: api, region: c.Region, caller: caller})
	r.Register(&releaseBucket{api: api, region: c.Region})
	r.Register(&collectBucket{api: func(region string) collectAPI { return c.S3(region) }, region: c.Region})
}

var containBucketCalls = []string{
	"s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetPublicAccessBlock", "s3:GetBucketOwnershipControls", "s3:GetBucketVersioning",
	"s3:GetBucketLogging", "s3:GetBucketReplication", "s3:GetBucketNotificationConfiguration", "s3:GetBucketTagging",
	"sts:GetCallerIdentity", "s3:PutBucketTagging", "s3:PutPublicAccessBlock", "s3:PutBucketPolicy", "s3:PutBucketVersioning",
	"s3:PutBucketLogging",
}

func (*containBucket) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name: "contain-bucket",
		Summary: "Record a bucket's policy, ACLs, public access block, ownership, versioning, logging, replication and notifications; " +
			"then block public access, deny the suspects (or everyone but the responder) in its policy, turn versioning on and send its access logs to a log bucket",
		Params: engine.ParamsOf[containBucketParams](),
		Outputs: []engine.Output{
			{Name: "previous_state", Type: engine.TypeMap, Doc: "what was changed, as it was (release-bucket takes it)"},
			{Name: "state_artifact", Type: engine.TypeString, Doc: "the pre-containment artifact: the state and the whole configuration read"},
			{Name: "substeps", Type: engine.TypeMap, Doc: "part -> done, skipped: why, or error: why"},
			{Name: "denied", Type: engine.TypeList, Doc: "the aws:PrincipalArn patterns the policy now denies", Headline: true},
		},
		Calls:       containBucketCalls,
		Permissions: awsperm.ForCalls(containBucketCalls),
		Grants:      bucketGrant(awsperm.ForCalls(containBucketCalls)),
		Mutating:    true,
	}
}

func (a *containBucket) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[containBucketParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("contain-bucket: %w", err)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("contain-bucket: %w", err)
	}
	c := &containment{p: p, in: in, api: a.api(p.Region), region: a.region(p.Region), parts: awsapi.NewParts(in.Evidence)}
	if err := c.responder(ctx, a.caller); err != nil {
		return nil, fmt.Errorf("contain-bucket: %w (nothing was changed)", err)
	}
	if err := c.record(ctx); err != nil {
		return nil, fmt.Errorf("contain-bucket: %w (nothing was changed)", err)
	}
	c.apply(ctx)
	out := engine.Outputs{"previous_state": c.state.asMap(), "state_artifact": c.artifact, "substeps": c.parts.Map(), "denied": c.denied()}
	return out, c.parts.Err("contain-bucket")
}

func (p *containBucketParams) check() error {
	if !bucketNameRule.MatchString(p.Bucket) {
		return fmt.Errorf("bucket %q is not a bucket name", p.Bucket)
	}
	if p.LogBucket != "" && !bucketNameRule.MatchString(p.LogBucket) {
		return fmt.Errorf("log_bucket %q is not a bucket name", p.LogBucket)
	}
	if p.LogBucket == p.Bucket && p.LogBucket != "" {
		return fmt.Errorf("log_bucket is the bucket itself: its logs would be written into the bucket under containment")
	}
	for _, arn := range append(append([]string(nil), p.DenyPrincipals...), p.ExceptPrincipals...) {
		if !strings.HasPrefix(arn, "arn:") {
			return fmt.Errorf("principal %q is not an ARN (arn:aws:iam::ACCOUNT:user/NAME, role/NAME, root ...)", arn)
		}
	}
	return nil
}
