package s3

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// collectAPI is what collect-bucket reads; *s3.Client has it.
type collectAPI interface {
	configAPI
	GetBucketLocation(ctx context.Context, in *s3.GetBucketLocationInput, opts ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error)
	GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, opts ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	GetBucketLifecycleConfiguration(ctx context.Context, in *s3.GetBucketLifecycleConfigurationInput, opts ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
	GetBucketCors(ctx context.Context, in *s3.GetBucketCorsInput, opts ...func(*s3.Options)) (*s3.GetBucketCorsOutput, error)
	GetBucketWebsite(ctx context.Context, in *s3.GetBucketWebsiteInput, opts ...func(*s3.Options)) (*s3.GetBucketWebsiteOutput, error)
	GetObjectLockConfiguration(ctx context.Context, in *s3.GetObjectLockConfigurationInput, opts ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error)
	GetBucketPolicyStatus(ctx context.Context, in *s3.GetBucketPolicyStatusInput, opts ...func(*s3.Options)) (*s3.GetBucketPolicyStatusOutput, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, opts ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
}

// collectBucket keeps a bucket's configuration and the list of its object
// versions and delete markers as evidence, so an object deleted or
// overwritten by the attacker can still be named (key, version id, ETag,
// size, time). It changes nothing. The objects themselves are not copied:
// the listing names each version, and versioning (contain-bucket) keeps it.
type collectBucket struct {
	api    func(region string) collectAPI
	region func(region string) string
}

var _ engine.Action = (*collectBucket)(nil)

type collectBucketParams struct {
	Bucket      string `param:"bucket,required" doc:"the bucket"`
	Region      string `param:"region" default:"" doc:"the bucket's region; empty: the run's default"`
	Prefix      string `param:"prefix" default:"" doc:"list only the object versions under this key prefix"`
	MaxVersions int    `param:"max_versions" default:"100000" doc:"stop listing after this many versions and delete markers (the listing says it stopped, and a gap is recorded)"`
}

var collectBucketCalls = []string{
	"s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketPolicyStatus", "s3:GetBucketAcl", "s3:GetPublicAccessBlock",
	"s3:GetBucketOwnershipControls", "s3:GetBucketVersioning", "s3:GetBucketLogging", "s3:GetBucketReplication",
	"s3:GetBucketNotificationConfiguration", "s3:GetBucketTagging", "s3:GetBucketEncryption", "s3:GetBucketLifecycleConfiguration",
	"s3:GetBucketCors", "s3:GetBucketWebsite", "s3:GetObjectLockConfiguration", "s3:ListObjectVersions",
}

func (*collectBucket) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "collect-bucket",
		Summary: "Keep a bucket's whole configuration and the list of its object versions and delete markers (bounded) as evidence; changes nothing",
		Params:  engine.ParamsOf[collectBucketParams](),
		Outputs: []engine.Output{
			{Name: "versions", Type: engine.TypeInt, Doc: "object versions listed"},
			{Name: "delete_markers", Type: engine.TypeInt, Doc: "delete markers listed"},
			{Name: "truncated", Type: engine.TypeBool, Doc: "true when max_versions stopped the listing"},
			{Name: "configuration_artifact", Type: engine.TypeString},
			{Name: "versions_artifact", Type: engine.TypeString, Doc: "JSON lines, one version or delete marker each"},
		},
		Calls:       collectBucketCalls,
		Permissions: awsperm.ForCalls(collectBucketCalls),
		Grants:      bucketGrant(awsperm.ForCalls(collectBucketCalls)),
	}
}

// collectReads are the reads of containReads and the rest of a bucket's
// configuration.
func collectReads(api collectAPI) []configRead {
	return append(containReads(api),
		configRead{"location", "s3:GetBucketLocation", nil, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b})
			return outOr(out, err, func() any { return string(out.LocationConstraint) })
		}},
		configRead{"policy_status", "s3:GetBucketPolicyStatus", []string{"NoSuchBucketPolicy"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: b})
			return outOr(out, err, func() any { return out.PolicyStatus })
		}},
		configRead{"encryption", "s3:GetBucketEncryption", []string{"ServerSideEncryptionConfigurationNotFoundError"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
			return outOr(out, err, func() any { return out.ServerSideEncryptionConfiguration })
		}},
		configRead{"lifecycle", "s3:GetBucketLifecycleConfiguration", []string{"NoSuchLifecycleConfiguration"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
			return outOr(out, err, func() any { return out.Rules })
		}},
		configRead{"cors", "s3:GetBucketCors", []string{"NoSuchCORSConfiguration"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b})
			return outOr(out, err, func() any { return out.CORSRules })
		}},
		configRead{"website", "s3:GetBucketWebsite", []string{"NoSuchWebsiteConfiguration"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: b})
			return outOr(out, err, func() any {
				return map[string]any{"index": out.IndexDocument, "error": out.ErrorDocument, "redirect": out.RedirectAllRequestsTo, "rules": out.RoutingRules}
			})
		}},
		configRead{"object_lock", "s3:GetObjectLockConfiguration", []string{"ObjectLockConfigurationNotFoundError"}, func(ctx context.Context, b *string) (any, error) {
			out, err := api.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b})
			return outOr(out, err, func() any { return out.ObjectLockConfiguration })
		}},
	)
}

func (a *collectBucket) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[collectBucketParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("collect-bucket: %w", err)
	}
	if !bucketNameRule.MatchString(p.Bucket) {
		return nil, fmt.Errorf("collect-bucket: bucket %q is not a bucket name", p.Bucket)
	}
	if p.MaxVersions < 1 {
		return nil, fmt.Errorf("collect-bucket: max_versions %d: want at least 1", p.MaxVersions)
	}
	api := a.api(p.Region)
	cfg, err := readConfig(ctx, in.Evidence, p.Bucket, collectReads(api))
	if err != nil {
		return nil, fmt.Errorf("collect-bucket: %w", err)
	}
	src := map[string]string{"bucket": p.Bucket, "region": a.region(p.Region)}
	cart, err := awsapi.PutJSON(ctx, in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName("bucket-configuration", ".json", in),
		Kind: "bucket-configuration", Source: src}, cfg)
	if err != nil {
		return nil, fmt.Errorf("collect-bucket: %w", err)
	}
	l, vart, err := listVersions(ctx, api, in, p, src)
	if err != nil {
		return nil, fmt.Errorf("collect-bucket: %w", err)
	}
	if l.truncated {
		reason := fmt.Errorf("the listing stopped at max_versions %d; versions after key %q are not listed", p.MaxVersions, l.lastKey)
		if err := awsapi.Gap(ctx, in.Evidence, "s3:ListObjectVersions", reason, map[string]any{"bucket": p.Bucket}); err != nil {
			return nil, fmt.Errorf("collect-bucket: %w", err)
		}
	}
	return engine.Outputs{"versions": l.versions, "delete_markers": l.markers, "truncated": l.truncated,
		"configuration_artifact": cart.URI, "versions_artifact": vart.URI}, nil
}

// versionLine is one line of the versions artifact.
type versionLine struct {
	Key               string     `json:"key"`
	VersionID         string     `json:"version_id"`
	DeleteMarker      bool       `json:"delete_marker,omitempty"`
	IsLatest          bool       `json:"is_latest"`
	LastModified      *time.Time `json:"last_modified,omitempty"`
	ETag              string     `json:"etag,omitempty"`
	Size              *int64     `json:"size,omitempty"`
	StorageClass      string     `json:"storage_class,omitempty"`
	Owner             string     `json:"owner,omitempty"`
	ChecksumAlgorithm []string   `json:"checksum_algorithm,omitempty"`
}

// listing is what listVersions saw.
type listing struct {
	versions, markers int
	truncated         bool
	lastKey           string
}

// listVersions streams the versions and delete markers into an artifact,
// one JSON line each, page by page: a large bucket is never held in memory.
func listVersions(ctx context.Context, api collectAPI, in *engine.StepInput, p collectBucketParams, src map[string]string) (*listing, engine.Artifact, error) {
	pr, pw := io.Pipe()
	l := &listing{}
	go func() { pw.CloseWithError(l.write(ctx, api, p, json.NewEncoder(pw))) }()
	art, err := in.Evidence.Put(ctx, engine.ArtifactMeta{Name: engine.ArtifactName("object-versions", ".jsonl", in),
		Kind: "object-versions", ContentType: "application/x-ndjson", Source: src}, pr)
	pr.CloseWithError(err) // the writer stops if the store gave up
	if err != nil {
		return nil, art, fmt.Errorf("listing the object versions of bucket %q: %w", p.Bucket, err)
	}
	return l, art, nil
}

func (l *listing) write(ctx context.Context, api collectAPI, p collectBucketParams, enc *json.Encoder) error {
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(p.Bucket)}
	if p.Prefix != "" {
		in.Prefix = aws.String(p.Prefix)
	}
	for {
		out, err := api.ListObjectVersions(ctx, in)
		if err != nil {
			return awsapi.Classify(err)
		}
		for _, v := range out.Versions {
			if l.full(p) {
				return nil
			}
			line := versionLine{Key: aws.ToString(v.Key), VersionID: aws.ToString(v.VersionId), IsLatest: aws.ToBool(v.IsLatest),
				LastModified: v.LastModified, ETag: aws.ToString(v.ETag), Size: v.Size, StorageClass: string(v.StorageClass)}
			if v.Owner != nil {
				line.Owner = aws.ToString(v.Owner.ID)
			}
			for _, c := range v.ChecksumAlgorithm {
				line.ChecksumAlgorithm = append(line.ChecksumAlgorithm, string(c))
			}
			l.versions, l.lastKey = l.versions+1, line.Key
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
		for _, m := range out.DeleteMarkers {
			if l.full(p) {
				return nil
			}
			line := versionLine{Key: aws.ToString(m.Key), VersionID: aws.ToString(m.VersionId), DeleteMarker: true,
				IsLatest: aws.ToBool(m.IsLatest), LastModified: m.LastModified}
			if m.Owner != nil {
				line.Owner = aws.ToString(m.Owner.ID)
			}
			l.markers, l.lastKey = l.markers+1, line.Key
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// full reports whether the listing reached max_versions, and marks it
// truncated when it did.
func (l *listing) full(p collectBucketParams) bool {
	if l.versions+l.markers >= p.MaxVersions {
		l.truncated = true
		return true
	}
	return false
}
