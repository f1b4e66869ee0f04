package assess

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Each S3 check runs in every region over the buckets that live there
// (buckets in regions not assessed are left out). Block Public Access is
// checked on each bucket only: the account-wide setting needs the
// s3control client, which this module does not carry.
func registerS3(r *Registry) {
	r.Register(Check{ID: "s3.bucket.versioning", Family: "s3", Title: "S3 bucket versioning is enabled", Severity: Medium, Scope: Regional,
		Description: "Versioning keeps overwritten and deleted objects, so an intruder cannot destroy data or evidence by overwriting it.",
		Run:         bucketsBy(judgeVersioning)})
	r.Register(Check{ID: "s3.bucket.logging", Family: "s3", Title: "S3 server access logging is enabled", Severity: Medium, Scope: Regional,
		Description: "Server access logs record every request to the bucket: without them an investigation cannot say who read what.",
		Run:         bucketsBy(judgeLogging)})
	r.Register(Check{ID: "s3.bucket.public-acl", Family: "s3", Title: "S3 bucket ACL grants no public read or write", Severity: High, Scope: Regional,
		Description: "An ACL grant to AllUsers or AuthenticatedUsers opens the bucket to anyone with (or without) an AWS account.",
		Run:         bucketsBy(judgePublicACL)})
	r.Register(Check{ID: "s3.bucket.public-access-block", Family: "s3", Title: "S3 bucket Block Public Access is fully on", Severity: High, Scope: Regional,
		Description: "All four bucket-level Block Public Access settings on. The account-level setting is not checked (no s3control client).",
		Run:         bucketsBy(judgeBPA)})
	r.Register(Check{ID: "s3.bucket.encryption", Family: "s3", Title: "S3 bucket default encryption is set", Severity: Medium, Scope: Regional,
		Description: "A default server-side encryption rule encrypts every new object at rest.",
		Run:         bucketsBy(judgeEncryption)})
}

type bucketJudge func(ctx context.Context, api S3API, name string) Result

func bucketsBy(judge bucketJudge) func(context.Context, *Env, string) []Result {
	return func(ctx context.Context, env *Env, region string) []Result {
		return forBuckets(ctx, env, region, judge)
	}
}

func judgeVersioning(ctx context.Context, api S3API, name string) Result {
	out, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(name)})
	if err != nil {
		return errored(name, "s3:GetBucketVersioning", err)
	}
	if out.Status == types.BucketVersioningStatusEnabled {
		return passed(name, "versioning is enabled")
	}
	state := "never enabled"
	if out.Status != "" {
		state = string(out.Status)
	}
	return failed(name, "versioning is "+strings.ToLower(state),
		fmt.Sprintf("aws s3api put-bucket-versioning --bucket %s --versioning-configuration Status=Enabled", name))
}

func judgeLogging(ctx context.Context, api S3API, name string) Result {
	out, err := api.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(name)})
	if err != nil {
		return errored(name, "s3:GetBucketLogging", err)
	}
	if le := out.LoggingEnabled; le != nil && aws.ToString(le.TargetBucket) != "" {
		return passed(name, fmt.Sprintf("access logs go to s3://%s/%s", aws.ToString(le.TargetBucket), aws.ToString(le.TargetPrefix)))
	}
	return failed(name, "server access logging is off",
		fmt.Sprintf(`aws s3api put-bucket-logging --bucket %s --bucket-logging-status '{"LoggingEnabled":{"TargetBucket":"LOG_BUCKET","TargetPrefix":"%s/"}}'`, name, name))
}

const (
	allUsersURI  = "http://acs.amazonaws.com/groups/global/AllUsers"
	authUsersURI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
)

func judgePublicACL(ctx context.Context, api S3API, name string) Result {
	out, err := api.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(name)})
	if err != nil {
		return errored(name, "s3:GetBucketAcl", err)
	}
	var open []string
	for _, g := range out.Grants {
		if g.Grantee == nil {
			continue
		}
		switch uri := aws.ToString(g.Grantee.URI); uri {
		case allUsersURI, authUsersURI:
			open = append(open, fmt.Sprintf("%s to %s", g.Permission, uri[strings.LastIndex(uri, "/")+1:]))
		}
	}
	if len(open) == 0 {
		return passed(name, "the ACL grants nothing to AllUsers or AuthenticatedUsers")
	}
	return failed(name, "the ACL grants "+strings.Join(open, ", "),
		fmt.Sprintf("aws s3api put-bucket-acl --bucket %s --acl private", name))
}

func judgeBPA(ctx context.Context, api S3API, name string) Result {
	fix := fmt.Sprintf("aws s3api put-public-access-block --bucket %s --public-access-block-configuration "+
		"BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true", name)
	out, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(name)})
	if awsapi.Code(err) == "NoSuchPublicAccessBlockConfiguration" {
		return failed(name, "the bucket has no Block Public Access configuration", fix)
	}
	if err != nil {
		return errored(name, "s3:GetPublicAccessBlock", err)
	}
	if off := bpaOff(out.PublicAccessBlockConfiguration); len(off) > 0 {
		return failed(name, "Block Public Access is off for "+strings.Join(off, ", "), fix)
	}
	return passed(name, "all four Block Public Access settings are on")
}

// bpaOff names the Block Public Access settings that are not on.
func bpaOff(c *types.PublicAccessBlockConfiguration) []string {
	if c == nil {
		return []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"}
	}
	var off []string
	for _, s := range []struct {
		name string
		on   *bool
	}{{"BlockPublicAcls", c.BlockPublicAcls}, {"IgnorePublicAcls", c.IgnorePublicAcls}, {"BlockPublicPolicy", c.BlockPublicPolicy}, {"RestrictPublicBuckets", c.RestrictPublicBuckets}} {
		if !aws.ToBool(s.on) {
			off = append(off, s.name)
		}
	}
	return off
}

func judgeEncryption(ctx context.Context, api S3API, name string) Result {
	algo, err := defaultEncryption(ctx, api, name)
	if err != nil {
		return errored(name, "s3:GetBucketEncryption", err)
	}
	if algo == "" {
		return failed(name, "no default encryption rule",
			fmt.Sprintf(`aws s3api put-bucket-encryption --bucket %s --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'`, name))
	}
	return passed(name, "objects are encrypted by default with "+algo)
}

// defaultEncryption returns the bucket's default SSE algorithm, "" when it
// has none.
func defaultEncryption(ctx context.Context, api S3API, name string) (string, error) {
	out, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(name)})
	if awsapi.Code(err) == "ServerSideEncryptionConfigurationNotFoundError" {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if c := out.ServerSideEncryptionConfiguration; c != nil {
		for _, r := range c.Rules {
			if d := r.ApplyServerSideEncryptionByDefault; d != nil && d.SSEAlgorithm != "" {
				return string(d.SSEAlgorithm), nil
			}
		}
	}
	return "", nil
}
