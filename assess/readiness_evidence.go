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

// EvidenceTag marks the evidence bucket when --evidence-bucket names none.
const (
	EvidenceTag      = "firebreak:evidence"
	evidenceTagValue = "true"
)

func checkEvidenceBucket(ctx context.Context, env *Env, _ string) []Result {
	b, err := findEvidenceBucket(ctx, env)
	if err != nil {
		r := lookupError(err)
		r.Resource = "evidence bucket"
		return []Result{r}
	}
	if b == nil {
		what := fmt.Sprintf("no bucket is tagged %s=%s", EvidenceTag, evidenceTagValue)
		if env.EvidenceBucket != "" {
			what = fmt.Sprintf("bucket %q does not exist in this account", env.EvidenceBucket)
		}
		return []Result{failed("evidence bucket", what+"; "+needsEvidence,
			"create one with the evidence-bucket action (versioning, encryption, Block Public Access, Object Lock), then tag it: "+
				"aws s3api put-bucket-tagging --bucket BUCKET --tagging 'TagSet=[{Key="+EvidenceTag+",Value=true}]'")}
	}
	r := judgeEvidence(ctx, env.S3(b.Region), b.Name)
	r.Resource, r.Region = bucketARN(b.Name), b.Region
	return []Result{r}
}

// findEvidenceBucket returns the named bucket, or the first (by name) that
// carries the evidence tag; nil when there is none.
func findEvidenceBucket(ctx context.Context, env *Env) (*bucket, error) {
	bs, err := env.listBuckets(ctx)
	if err != nil {
		return nil, fmt.Errorf("s3:ListBuckets: %w", err)
	}
	if env.EvidenceBucket != "" {
		for i := range bs {
			if bs[i].Name == env.EvidenceBucket {
				return &bs[i], bs[i].err
			}
		}
		return nil, nil
	}
	tagged := make([]bool, len(bs))
	errs := make([]error, len(bs))
	each(len(bs), env.Fanout, func(i int) {
		if bs[i].err == nil {
			tagged[i], errs[i] = hasEvidenceTag(ctx, env.S3(bs[i].Region), bs[i].Name)
		}
	})
	var found *bucket
	for i := range bs {
		if tagged[i] && (found == nil || bs[i].Name < found.Name) {
			found = &bs[i]
		}
	}
	if found == nil {
		// Only when no bucket is known to be tagged does a failed lookup
		// leave the answer open.
		for i := range bs {
			if err := errs[i]; err != nil {
				return nil, fmt.Errorf("reading the tags of %q: %w", bs[i].Name, err)
			}
		}
	}
	return found, nil
}

func hasEvidenceTag(ctx context.Context, api S3API, name string) (bool, error) {
	out, err := api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	if awsapi.Code(err) == "NoSuchTagSet" || awsapi.Code(err) == "NoSuchTagSetError" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("s3:GetBucketTagging: %w", err)
	}
	for _, t := range out.TagSet {
		if aws.ToString(t.Key) == EvidenceTag && aws.ToString(t.Value) == evidenceTagValue {
			return true, nil
		}
	}
	return false, nil
}

// judgeEvidence checks the four properties the evidence-bucket action sets.
// Each lookup that fails makes the verdict error: a half-checked bucket is
// not a pass.
func judgeEvidence(ctx context.Context, api S3API, name string) Result {
	var missing, fixes []string
	add := func(what, fix string) { missing, fixes = append(missing, what), append(fixes, fix) }
	v, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(name)})
	if err != nil {
		return errored("", "s3:GetBucketVersioning", err)
	}
	if v.Status != types.BucketVersioningStatusEnabled {
		add("versioning", fmt.Sprintf("aws s3api put-bucket-versioning --bucket %s --versioning-configuration Status=Enabled", name))
	}
	algo, err := defaultEncryption(ctx, api, name)
	if err != nil {
		return errored("", "s3:GetBucketEncryption", err)
	}
	if algo == "" {
		add("default encryption", judgeEncryption(ctx, api, name).Remediation)
	}
	if r := judgeBPA(ctx, api, name); r.Status == Error {
		return r
	} else if r.Status == Fail {
		add("Block Public Access", r.Remediation)
	}
	locked, err := objectLockOn(ctx, api, name)
	if err != nil {
		return errored("", "s3:GetObjectLockConfiguration", err)
	}
	if !locked {
		// Object Lock can only be set on a new bucket (or by AWS support).
		add("Object Lock", "create a new evidence bucket with the evidence-bucket action (Object Lock needs --object-lock-enabled-for-bucket at creation)")
	}
	if len(missing) == 0 {
		return passed("", "versioning, default encryption, Block Public Access and Object Lock are all on")
	}
	return failed("", "the evidence bucket lacks "+strings.Join(missing, ", ")+"; "+needsEvidence, strings.Join(fixes, " && "))
}

func objectLockOn(ctx context.Context, api S3API, name string) (bool, error) {
	out, err := api.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(name)})
	if awsapi.Code(err) == "ObjectLockConfigurationNotFoundError" {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return out.ObjectLockConfiguration != nil && out.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled, nil
}
