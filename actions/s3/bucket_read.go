package s3

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// configAPI is the bucket configuration reads contain-bucket and
// collect-bucket make; *s3.Client has them.
type configAPI interface {
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, opts ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	GetBucketAcl(ctx context.Context, in *s3.GetBucketAclInput, opts ...func(*s3.Options)) (*s3.GetBucketAclOutput, error)
	GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, opts ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput, opts ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, opts ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetBucketLogging(ctx context.Context, in *s3.GetBucketLoggingInput, opts ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error)
	GetBucketReplication(ctx context.Context, in *s3.GetBucketReplicationInput, opts ...func(*s3.Options)) (*s3.GetBucketReplicationOutput, error)
	GetBucketNotificationConfiguration(ctx context.Context, in *s3.GetBucketNotificationConfigurationInput, opts ...func(*s3.Options)) (*s3.GetBucketNotificationConfigurationOutput, error)
	GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, opts ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
}

// configRead is one read of a bucket's configuration: its name in the
// record, its call, the error codes that mean "not configured" (a value
// of nil, not a failure), and the read itself, giving the part of the
// answer worth keeping.
type configRead struct {
	name   string
	call   string
	absent []string
	read   func(ctx context.Context, bucket *string) (any, error)
}

// containReads are what contain-bucket records before it changes
// anything: what it changes and what it leaves alone but an examiner
// needs (ACLs, ownership, replication, notifications: where data goes).
func containReads(api configAPI) []configRead {
	return []configRead{
		{"policy", "s3:GetBucketPolicy", []string{"NoSuchBucketPolicy"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
			return outOr(out, err, func() any { return aws.ToString(out.Policy) })
		}},
		{"acl", "s3:GetBucketAcl", nil, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b})
			return outOr(out, err, func() any { return map[string]any{"owner": out.Owner, "grants": out.Grants} })
		}},
		{"public_access_block", "s3:GetPublicAccessBlock", []string{"NoSuchPublicAccessBlockConfiguration"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
			return outOr(out, err, func() any { return pabOf(out.PublicAccessBlockConfiguration) })
		}},
		{"ownership_controls", "s3:GetBucketOwnershipControls", []string{"OwnershipControlsNotFoundError"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
			return outOr(out, err, func() any { return out.OwnershipControls })
		}},
		{"versioning", "s3:GetBucketVersioning", nil, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
			return outOr(out, err, func() any { return map[string]any{"status": string(out.Status), "mfa_delete": string(out.MFADelete)} })
		}},
		{"logging", "s3:GetBucketLogging", nil, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: b})
			return outOr(out, err, func() any { return loggingOf(out.LoggingEnabled) })
		}},
		{"replication", "s3:GetBucketReplication", []string{"ReplicationConfigurationNotFoundError"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: b})
			return outOr(out, err, func() any { return out.ReplicationConfiguration })
		}},
		{"notifications", "s3:GetBucketNotificationConfiguration", nil, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: b})
			return outOr(out, err, func() any {
				return map[string]any{"topics": out.TopicConfigurations, "queues": out.QueueConfigurations,
					"lambda_functions": out.LambdaFunctionConfigurations, "event_bridge": out.EventBridgeConfiguration != nil}
			})
		}},
		{"tags", "s3:GetBucketTagging", []string{"NoSuchTagSet"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
			return outOr(out, err, func() any { return tagMap(out.TagSet) })
		}},
	}
}

// outOr returns keep() when err is nil.
func outOr[T any](out *T, err error, keep func() any) (any, error) {
	if err != nil {
		return nil, err
	}
	return keep(), nil
}

// bucketConfig is a bucket's configuration as read: name -> the value
// kept (nil: not configured), and the reads the endpoint could not make.
type bucketConfig struct {
	Values map[string]any `json:"configuration"`
	// Absent names the settings the bucket does not have (the error code
	// S3 answered), so "none" is told apart from "not read".
	Absent map[string]string `json:"absent,omitempty"`
	// Gaps are the reads the endpoint does not implement, each recorded
	// in the custody log too.
	Gaps map[string]string `json:"gaps,omitempty"`
}

// readConfig makes every read. A read the endpoint does not implement (or
// does not answer) is a recorded gap; any other error stops it: nothing is
// changed on a bucket whose state could not be recorded.
func readConfig(ctx context.Context, ev engine.Evidence, bucket string, reads []configRead) (*bucketConfig, error) {
	c := &bucketConfig{Values: map[string]any{}, Absent: map[string]string{}, Gaps: map[string]string{}}
	for _, r := range reads {
		v, err := r.read(ctx, aws.String(bucket))
		code := awsapi.Code(err)
		switch {
		case err == nil:
			c.Values[r.name] = v
		case slices.Contains(r.absent, code):
			c.Values[r.name] = nil
			c.Absent[r.name] = code
		case awsapi.IsNotImplemented(err) || awsapi.IsUnanswered(err):
			c.Gaps[r.name] = err.Error()
			if gerr := awsapi.Gap(ctx, ev, r.call, err, map[string]any{"bucket": bucket, "setting": r.name}); gerr != nil {
				return nil, gerr
			}
		default:
			return nil, fmt.Errorf("reading the %s of bucket %q (%s): %w", r.name, bucket, r.call, awsapi.Classify(err))
		}
	}
	return c, nil
}
