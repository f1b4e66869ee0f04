package s3

import (
	"context"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// containment is one contain-bucket run.
type containment struct {
	p        containBucketParams
	in       *engine.StepInput
	api      bucketOps
	region   string
	parts    *awsapi.Parts
	allBut   []string // who deny_all_but_responder spares
	cfg      *bucketConfig
	current  *policyDoc // the policy as it is now
	tags     map[string]string
	state    *bucketState
	artifact string
}

// responder finds who the run acts as, when it matters: to spare it from
// deny_all_but_responder, and to refuse denying the run itself.
func (c *containment) responder(ctx context.Context, caller func(context.Context) (string, error)) error {
	if !c.p.DenyAllButResponder && len(c.p.DenyPrincipals) == 0 {
		return nil
	}
	who, err := caller(ctx)
	if err != nil {
		return err
	}
	if !c.p.Force && actsAs(who, c.p.DenyPrincipals) {
		return fmt.Errorf("the run acts as %q, one of deny_principals: the deny would cut the run off; run as another principal, or set force: true", who)
	}
	if c.p.DenyAllButResponder {
		c.allBut = append([]string{responderARN(who)}, c.p.ExceptPrincipals...)
	}
	return nil
}

// record reads the whole configuration, works out the state before any
// containment (from the prev tags when an earlier run left them), and
// stores it as an artifact and as prev tags, before the first change:
// without it release-bucket could not undo.
func (c *containment) record(ctx context.Context) error {
	cfg, err := readConfig(ctx, c.in.Evidence, c.p.Bucket, containReads(c.api))
	if err != nil {
		return err
	}
	for _, must := range []string{"policy", "public_access_block", "versioning", "logging", "tags"} {
		if why, gap := cfg.Gaps[must]; gap {
			return fmt.Errorf("the %s of bucket %q cannot be read here (%s): what containment would change could not be recorded", must, c.p.Bucket, why)
		}
	}
	c.cfg = cfg
	policy, _ := cfg.Values["policy"].(string)
	if c.current, err = parsePolicy(policy); err != nil {
		return err
	}
	c.tags, _ = cfg.Values["tags"].(map[string]string)
	c.state = c.stateBefore()
	name := engine.ArtifactName("pre-containment-state", ".json", c.in)
	art, err := awsapi.PutJSON(ctx, c.in.Evidence, engine.ArtifactMeta{Name: name, Kind: "pre-containment-state",
		Source: map[string]string{"bucket": c.p.Bucket, "region": c.region}},
		map[string]any{"state": c.state, "configuration": cfg})
	if err != nil {
		return err
	}
	c.artifact = art.URI
	return c.writeTags(ctx)
}

// stateBefore is the state before containment: as the bucket is, or, on a
// bucket an earlier run contained, as its prev tags say (the policy then
// without the statements containment added).
func (c *containment) stateBefore() *bucketState {
	s := &bucketState{Bucket: c.p.Bucket, Region: c.region, Tags: ownTags(c.tags)}
	pabTag, tagged := c.tags[prevTagPAB]
	if !tagged {
		s.Policy = policyOrEmpty(c.current, c.current.statements)
		s.PublicAccessBlock, _ = c.cfg.Values["public_access_block"].(*pab)
		v, _ := c.cfg.Values["versioning"].(map[string]any)
		s.Versioning, _ = v["status"].(string)
		s.Logging, _ = c.cfg.Values["logging"].(*logTarget)
		return s
	}
	s.FromTags = true
	s.Policy = policyOrEmpty(c.current, c.current.without(containSidPrefix))
	s.PublicAccessBlock, _ = pabFromTag(pabTag)
	s.Versioning = fromNone(c.tags[prevTagVersioning])
	s.Logging, _ = logFromTag(c.tags[prevTagLogging])
	return s
}

func policyOrEmpty(d *policyDoc, statements []any) string {
	s, _ := d.render(statements)
	return s
}

// writeTags adds the case and prev tags to the bucket's own, never
// overwriting a prev tag an earlier run wrote.
func (c *containment) writeTags(ctx context.Context) error {
	want := maps.Clone(c.tags)
	if want == nil {
		want = map[string]string{}
	}
	for k, v := range c.state.prevTags() {
		if _, ok := want[k]; !ok {
			want[k] = v
		}
	}
	if _, ok := want[awsapi.TagCase]; !ok {
		want[awsapi.TagCase] = c.in.CaseID
	}
	want[awsapi.TagStatus] = "contained"
	if c.p.LogBucket != "" {
		want[tagLogGrant] = c.p.LogBucket
	}
	if maps.Equal(want, c.tags) {
		return nil
	}
	if _, err := c.api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(c.p.Bucket),
		Tagging: &types.Tagging{TagSet: tagSet(want)}}); err != nil {
		return fmt.Errorf("recording the pre-containment state in the tags of bucket %q: %w", c.p.Bucket, awsapi.Classify(err))
	}
	c.tags = want
	return awsapi.Change(ctx, c.in.Evidence, "s3:PutBucketTagging", map[string]any{"bucket": c.p.Bucket, "tags": want})
}

// apply makes each change that is not made yet; a part that fails stops
// no other.
func (c *containment) apply(ctx context.Context) {
	b := aws.String(c.p.Bucket)
	if pb, _ := c.cfg.Values["public_access_block"].(*pab); pb.allOn() {
		c.parts.Skip(ctx, "public_access_block", "already on")
	} else {
		c.parts.Run(ctx, "public_access_block", func() error {
			on := &pab{true, true, true, true}
			if _, err := c.api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: on.sdk()}); err != nil {
				return awsapi.Classify(err)
			}
			return awsapi.Change(ctx, c.in.Evidence, "s3:PutPublicAccessBlock", map[string]any{"bucket": c.p.Bucket, "was": c.cfg.Values["public_access_block"]})
		})
	}
	c.applyPolicy(ctx)
	c.applyVersioning(ctx)
	c.applyLogging(ctx)
}

func (c *containment) applyPolicy(ctx context.Context) {
	add := denyStatements(c.p.Bucket, c.current, c.p.DenyPrincipals, c.allBut)
	want := c.current.with(containSidPrefix, add)
	switch {
	case len(add) == 0:
		c.parts.Skip(ctx, "policy", "no principal to deny (deny_principals empty, deny_all_but_responder off)")
		return
	case sameStatements(want, c.current.statements):
		c.parts.Skip(ctx, "policy", "the deny is in place")
		return
	}
	c.parts.Run(ctx, "policy", func() error { return putPolicy(ctx, c.api, c.in.Evidence, c.p.Bucket, c.current, want) })
}

// putPolicy puts the policy with statements on bucket, or deletes it when
// there are none, and records the change.
func putPolicy(ctx context.Context, api bucketOps, ev engine.Evidence, bucket string, doc *policyDoc, statements []any) error {
	policy, err := doc.render(statements)
	if err != nil {
		return err
	}
	if policy == "" {
		if _, err := api.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil {
			return awsapi.Classify(err)
		}
		return awsapi.Change(ctx, ev, "s3:DeleteBucketPolicy", map[string]any{"bucket": bucket})
	}
	if _, err := api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
		return awsapi.Classify(err)
	}
	return awsapi.Change(ctx, ev, "s3:PutBucketPolicy", map[string]any{"bucket": bucket, "policy": policy})
}

func (c *containment) applyVersioning(ctx context.Context) {
	v, _ := c.cfg.Values["versioning"].(map[string]any)
	switch {
	case !c.p.Versioning:
		c.parts.Skip(ctx, "versioning", "not asked for (versioning: false)")
	case v["status"] == string(types.BucketVersioningStatusEnabled):
		c.parts.Skip(ctx, "versioning", "already on")
	default:
		c.parts.Run(ctx, "versioning", func() error {
			return putVersioning(ctx, c.api, c.in.Evidence, c.p.Bucket, types.BucketVersioningStatusEnabled)
		})
	}
}

func putVersioning(ctx context.Context, api bucketOps, ev engine.Evidence, bucket string, status types.BucketVersioningStatus) error {
	if _, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: status}}); err != nil {
		return awsapi.Classify(err)
	}
	return awsapi.Change(ctx, ev, "s3:PutBucketVersioning", map[string]any{"bucket": bucket, "status": string(status)})
}

// applyLogging grants the logging service a prefix of the log bucket for
// this bucket, then points the bucket's server access logs there.
func (c *containment) applyLogging(ctx context.Context) {
	if c.p.LogBucket == "" {
		c.parts.Skip(ctx, "access_logging", "no log_bucket given")
		return
	}
	want := &logTarget{c.p.LogBucket, c.p.LogPrefix + c.p.Bucket + "/"}
	if cur, _ := c.cfg.Values["logging"].(*logTarget); cur != nil && *cur == *want {
		c.parts.Skip(ctx, "access_logging", "already sent to "+want.Bucket+"/"+want.Prefix)
		return
	}
	c.parts.Run(ctx, "access_logging", func() error {
		if err := grantLogs(ctx, c.api, c.in.Evidence, c.p.Bucket, want); err != nil {
			return fmt.Errorf("letting the logging service write to bucket %q: %w", want.Bucket, err)
		}
		return putLogging(ctx, c.api, c.in.Evidence, c.p.Bucket, want)
	})
}

// grantLogs adds (or refreshes) the log bucket's grant for source.
func grantLogs(ctx context.Context, api bucketOps, ev engine.Evidence, source string, to *logTarget) error {
	doc, err := currentPolicy(ctx, api, to.Bucket)
	if err != nil {
		return err
	}
	want := doc.with(logGrantSid(source), logGrant(to.Bucket, to.Prefix, source))
	if sameStatements(want, doc.statements) {
		return nil
	}
	return putPolicy(ctx, api, ev, to.Bucket, doc, want)
}

// currentPolicy reads bucket's policy (empty when it has none).
func currentPolicy(ctx context.Context, api bucketOps, bucket string) (*policyDoc, error) {
	out, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if awsapi.Code(err) == "NoSuchBucketPolicy" {
		return parsePolicy("")
	}
	if err != nil {
		return nil, awsapi.Classify(err)
	}
	return parsePolicy(aws.ToString(out.Policy))
}

func putLogging(ctx context.Context, api bucketOps, ev engine.Evidence, bucket string, to *logTarget) error {
	status := &types.BucketLoggingStatus{}
	if to != nil {
		status.LoggingEnabled = &types.LoggingEnabled{TargetBucket: aws.String(to.Bucket), TargetPrefix: aws.String(to.Prefix)}
	}
	if _, err := api.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String(bucket), BucketLoggingStatus: status}); err != nil {
		return awsapi.Classify(err)
	}
	return awsapi.Change(ctx, ev, "s3:PutBucketLogging", map[string]any{"bucket": bucket, "logging": to})
}

// denied lists the patterns the policy denies, for the output.
func (c *containment) denied() []any {
	out := union(patternsOf(c.current, sidDenySuspects), principalPatterns(c.p.DenyPrincipals))
	if len(c.allBut) > 0 {
		out = append(out, "* except "+fmt.Sprint(principalPatterns(c.allBut)))
	}
	if out == nil {
		out = []any{}
	}
	return out
}
