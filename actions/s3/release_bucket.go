package s3

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// releaseBucket undoes contain-bucket for a false positive, from the state
// it recorded: the previous_state output when given, else the prev tags on
// the bucket. The policy loses exactly the statements containment added,
// so the bucket's own statements come back as they were. It is idempotent.
//
// Versioning cannot be turned off once it was on: a bucket that had never
// had it is left Suspended, and not_restored says so.
type releaseBucket struct {
	api    func(region string) bucketOps
	region func(region string) string
}

var _ engine.Action = (*releaseBucket)(nil)

type releaseBucketParams struct {
	Bucket        string         `param:"bucket,required" doc:"the contained bucket"`
	Region        string         `param:"region" default:"" doc:"the bucket's region; empty: the run's default"`
	PreviousState map[string]any `param:"previous_state" doc:"contain-bucket's previous_state output; empty: read the prev tags containment left on the bucket"`
}

var releaseBucketCalls = []string{
	"s3:GetBucketTagging", "s3:GetBucketPolicy", "s3:GetPublicAccessBlock", "s3:GetBucketVersioning", "s3:GetBucketLogging",
	"s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutPublicAccessBlock", "s3:DeletePublicAccessBlock", "s3:PutBucketVersioning",
	"s3:PutBucketLogging", "s3:PutBucketTagging", "s3:DeleteBucketTagging",
}

func (*releaseBucket) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "release-bucket",
		Summary: "Undo contain-bucket (a false positive): the policy without containment's statements, public access block, versioning, access logging and tags as recorded; the log bucket's grant is removed",
		Params:  engine.ParamsOf[releaseBucketParams](),
		Outputs: []engine.Output{
			{Name: "restored", Type: engine.TypeMap, Doc: "the state put back"},
			{Name: "substeps", Type: engine.TypeMap},
			{Name: "not_restored", Type: engine.TypeList, Doc: "what could not be put back as it was, and why", Headline: true},
		},
		Calls:       releaseBucketCalls,
		Permissions: awsperm.ForCalls(releaseBucketCalls),
		Grants:      bucketGrant(awsperm.ForCalls(releaseBucketCalls)),
		Mutating:    true,
	}
}

// bucketRelease is one release-bucket run.
type bucketRelease struct {
	bucket      string
	api         bucketOps
	ev          engine.Evidence
	parts       *awsapi.Parts
	want        *bucketState
	tags        map[string]string
	notRestored []any
}

func (a *releaseBucket) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[releaseBucketParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("release-bucket: %w", err)
	}
	if !bucketNameRule.MatchString(p.Bucket) {
		return nil, fmt.Errorf("release-bucket: bucket %q is not a bucket name", p.Bucket)
	}
	r := &bucketRelease{bucket: p.Bucket, api: a.api(p.Region), ev: in.Evidence, parts: awsapi.NewParts(in.Evidence), notRestored: []any{}}
	err = r.load(ctx, p.PreviousState)
	if errors.Is(err, errReleased) {
		return engine.Outputs{"restored": map[string]any{}, "substeps": map[string]any{"all": "skipped: released already (tag firebreak:status=released)"},
			"not_restored": []any{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("release-bucket: %w (nothing was changed)", err)
	}
	r.restore(ctx)
	return engine.Outputs{"restored": r.want.asMap(), "substeps": r.parts.Map(), "not_restored": r.notRestored}, r.parts.Err("release-bucket")
}

// load reads the bucket's tags and the state to restore: previous_state
// when given, else the prev tags.
func (r *bucketRelease) load(ctx context.Context, prev map[string]any) error {
	out, err := r.api.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(r.bucket)})
	switch {
	case awsapi.Code(err) == "NoSuchTagSet":
		r.tags = map[string]string{}
	case err != nil:
		return fmt.Errorf("reading the tags of bucket %q: %w", r.bucket, awsapi.Classify(err))
	default:
		r.tags = tagMap(out.TagSet)
	}
	if len(prev) > 0 {
		s, err := bucketStateFromMap(prev)
		if err != nil || s.Bucket != r.bucket {
			return fmt.Errorf("previous_state is not contain-bucket's state of bucket %q (%v)", r.bucket, err)
		}
		r.want = s
		return nil
	}
	return r.fromTags()
}

// errReleased says a bucket was released already: its prev tags are gone
// and its status tag says released; a second release changes nothing.
var errReleased = errors.New("released already")

func (r *bucketRelease) fromTags() error {
	if _, ok := r.tags[prevTagPAB]; !ok && r.tags[awsapi.TagStatus] == "released" {
		return errReleased
	}
	s := &bucketState{Bucket: r.bucket, Tags: ownTags(r.tags), FromTags: true, Policy: "-"}
	var ok1, ok2 bool
	s.PublicAccessBlock, ok1 = pabFromTag(r.tags[prevTagPAB])
	s.Logging, ok2 = logFromTag(r.tags[prevTagLogging])
	v, ok3 := r.tags[prevTagVersioning]
	if !ok1 || !ok3 {
		return fmt.Errorf("bucket %q carries no firebreak containment state (tags %s, %s): give previous_state, or it was never contained", r.bucket, prevTagPAB, prevTagVersioning)
	}
	if !ok2 {
		return fmt.Errorf("bucket %q: its logging before containment did not fit in tag %s (%q): give contain-bucket's previous_state", r.bucket, prevTagLogging, r.tags[prevTagLogging])
	}
	s.Versioning = fromNone(v)
	r.want = s
	return nil
}

func (r *bucketRelease) restore(ctx context.Context) {
	r.parts.Run(ctx, "policy", func() error { return r.restorePolicy(ctx) })
	r.parts.Run(ctx, "public_access_block", func() error { return r.restorePAB(ctx) })
	r.parts.Run(ctx, "versioning", func() error { return r.restoreVersioning(ctx) })
	r.parts.Run(ctx, "access_logging", func() error { return r.restoreLogging(ctx) })
	// The tags go last: while a part above failed, the prev tags keep what
	// a rerun needs.
	if !r.parts.OK() {
		r.parts.Skip(ctx, "tags", "kept while a part failed: a rerun reads them")
		return
	}
	r.parts.Run(ctx, "tags", func() error { return r.restoreTags(ctx) })
}

// restorePolicy takes out the statements containment added; with a
// previous_state it checks that what remains is the policy recorded.
func (r *bucketRelease) restorePolicy(ctx context.Context) error {
	doc, err := currentPolicy(ctx, r.api, r.bucket)
	if err != nil {
		return err
	}
	want := doc.without(containSidPrefix)
	if !sameStatements(want, doc.statements) {
		if err := putPolicy(ctx, r.api, r.ev, r.bucket, doc, want); err != nil {
			return err
		}
	}
	if r.want.Policy == "-" {
		return nil
	}
	if !samePolicy(policyOrEmpty(doc, want), r.want.Policy) {
		r.notRestored = append(r.notRestored, "policy: changed since containment (by someone else); containment's statements were taken out, the rest left as it is now")
	}
	return nil
}

// samePolicy compares two policies as JSON documents.
func samePolicy(a, b string) bool {
	da, err1 := parsePolicy(a)
	db, err2 := parsePolicy(b)
	return err1 == nil && err2 == nil && sameStatements(da.statements, db.statements) && maps.EqualFunc(da.fields, db.fields, func(x, y any) bool { return x == y })
}

func (r *bucketRelease) restorePAB(ctx context.Context) error {
	out, err := r.api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(r.bucket)})
	var cur *pab
	if err == nil {
		cur = pabOf(out.PublicAccessBlockConfiguration)
	} else if awsapi.Code(err) != "NoSuchPublicAccessBlockConfiguration" {
		return awsapi.Classify(err)
	}
	want := r.want.PublicAccessBlock
	switch {
	case want == nil && cur == nil, want != nil && cur != nil && *want == *cur:
		return nil
	case want == nil:
		if _, err := r.api.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(r.bucket)}); err != nil {
			return awsapi.Classify(err)
		}
		return awsapi.Change(ctx, r.ev, "s3:DeletePublicAccessBlock", map[string]any{"bucket": r.bucket})
	}
	if _, err := r.api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(r.bucket), PublicAccessBlockConfiguration: want.sdk()}); err != nil {
		return awsapi.Classify(err)
	}
	return awsapi.Change(ctx, r.ev, "s3:PutPublicAccessBlock", map[string]any{"bucket": r.bucket, "configuration": want})
}

func (r *bucketRelease) restoreVersioning(ctx context.Context) error {
	out, err := r.api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(r.bucket)})
	if err != nil {
		return awsapi.Classify(err)
	}
	want := types.BucketVersioningStatus(r.want.Versioning)
	if want == "" {
		r.notRestored = append(r.notRestored, "versioning: the bucket had none, and S3 cannot turn it off once on: it is left Suspended (new objects get no versions; the versions kept since containment stay)")
		want = types.BucketVersioningStatusSuspended
	}
	if out.Status == want {
		return nil
	}
	return putVersioning(ctx, r.api, r.ev, r.bucket, want)
}

// restoreLogging puts the logging back and takes the log bucket's grant
// for this bucket out again.
func (r *bucketRelease) restoreLogging(ctx context.Context) error {
	out, err := r.api.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(r.bucket)})
	if err != nil {
		return awsapi.Classify(err)
	}
	cur := loggingOf(out.LoggingEnabled)
	if !sameTarget(cur, r.want.Logging) {
		if err := putLogging(ctx, r.api, r.ev, r.bucket, r.want.Logging); err != nil {
			return err
		}
	}
	logBucket := r.tags[tagLogGrant]
	if logBucket == "" || r.want.Logging != nil && r.want.Logging.Bucket == logBucket {
		return nil
	}
	doc, err := currentPolicy(ctx, r.api, logBucket)
	if err != nil {
		return fmt.Errorf("reading the policy of log bucket %q: %w", logBucket, err)
	}
	want := doc.without(logGrantSid(r.bucket))
	if sameStatements(want, doc.statements) {
		return nil
	}
	return putPolicy(ctx, r.api, r.ev, logBucket, doc, want)
}

func sameTarget(a, b *logTarget) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// restoreTags puts the bucket's own tags back: firebreak's go, except the
// case tag, which stays so the bucket still says which case touched it,
// with status released.
func (r *bucketRelease) restoreTags(ctx context.Context) error {
	want := maps.Clone(r.want.Tags)
	if want == nil {
		want = map[string]string{}
	}
	if c := r.tags[awsapi.TagCase]; c != "" {
		want[awsapi.TagCase], want[awsapi.TagStatus] = c, "released"
	}
	switch {
	case maps.Equal(want, r.tags):
		return nil
	case len(want) == 0:
		if _, err := r.api.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(r.bucket)}); err != nil {
			return awsapi.Classify(err)
		}
		return awsapi.Change(ctx, r.ev, "s3:DeleteBucketTagging", map[string]any{"bucket": r.bucket})
	}
	if _, err := r.api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(r.bucket), Tagging: &types.Tagging{TagSet: tagSet(want)}}); err != nil {
		return awsapi.Classify(err)
	}
	return awsapi.Change(ctx, r.ev, "s3:PutBucketTagging", map[string]any{"bucket": r.bucket, "tags": want})
}
