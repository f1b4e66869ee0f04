package s3

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awstest"
)

// ownPolicy is the victim bucket's own policy: containment must keep it
// statement for statement, and release must give it back.
const ownPolicy = `{"Version":"2012-10-17","Id":"own","Statement":[{"Sid":"PartnerRead","Effect":"Allow",` +
	`"Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::victim/*"}]}`

type bucketWorld struct {
	e   *awstest.Env
	s3  *s3.Client
	reg *engine.Registry
}

// newBucketWorld makes bucket victim (a policy of its own, a public-read
// ACL, no Block Public Access, no versioning, tags) and bucket logs.
func newBucketWorld(t *testing.T) *bucketWorld {
	t.Helper()
	e := awstest.Start(t)
	api := s3.NewFromConfig(e.Direct, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := awstest.Ctx(t)
	for _, b := range []string{"victim", "logs"} {
		if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	must(t, func() error {
		_, err := api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("victim"), Policy: aws.String(ownPolicy)})
		return err
	})
	must(t, func() error {
		_, err := api.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String("victim"),
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}}})
		return err
	})
	must(t, func() error {
		_, err := api.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("victim"), ACL: types.BucketCannedACLPublicRead})
		return err
	})
	must(t, func() error {
		_, err := api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("victim"),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}}})
		return err
	})
	reg := engine.NewRegistry()
	Register(reg, e.Clients)
	return &bucketWorld{e: e, s3: api, reg: reg}
}

func must(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

// live is a bucket's configuration read back through the SDK.
type live struct {
	policy     string
	pab        *pab
	versioning string
	logging    *logTarget
	tags       map[string]string
}

func (w *bucketWorld) read(t *testing.T, bucket string) live {
	t.Helper()
	ctx := awstest.Ctx(t)
	b := aws.String(bucket)
	var l live
	if out, err := w.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); err == nil {
		l.policy = aws.ToString(out.Policy)
	}
	if out, err := w.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b}); err == nil {
		l.pab = pabOf(out.PublicAccessBlockConfiguration)
	}
	v, err := w.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	l.versioning = string(v.Status)
	lg, err := w.s3.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	l.logging = loggingOf(lg.LoggingEnabled)
	l.tags = map[string]string{}
	if out, err := w.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); err == nil {
		l.tags = tagMap(out.TagSet)
	}
	return l
}

func statements(t *testing.T, policy string) []map[string]any {
	t.Helper()
	if policy == "" {
		return nil
	}
	var doc struct{ Statement []map[string]any }
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatalf("policy %s: %v", policy, err)
	}
	return doc.Statement
}

var suspect = "arn:aws:iam::123456789012:user/mallory"

// TestContainBucket: contain-bucket records the configuration first, then
// blocks public access, adds the deny to the bucket's own policy, turns
// versioning on and sends access logs to the log bucket; everything read
// back through S3. A second run makes no change at all.
func TestContainBucket(t *testing.T) {
	w := newBucketWorld(t)
	params := engine.Params{"bucket": "victim", "deny_principals": []any{suspect}, "log_bucket": "logs"}
	out, ev, err := w.e.Run(t, w.reg, "contain-bucket", params)
	if err != nil {
		t.Fatalf("contain-bucket: %v", err)
	}
	got := w.read(t, "victim")
	if !got.pab.allOn() {
		t.Errorf("public access block: got %+v, want all four on", got.pab)
	}
	st := statements(t, got.policy)
	if len(st) != 2 || st[0]["Sid"] != "PartnerRead" || st[1]["Sid"] != sidDenySuspects {
		t.Fatalf("policy: got %s, want the bucket's own statement and the deny", got.policy)
	}
	arns, _ := st[1]["Condition"].(map[string]any)["ArnLike"].(map[string]any)["aws:PrincipalArn"].([]any)
	if !slices.Equal(arns, []any{suspect, "arn:aws:iam::123456789012:user/*/mallory"}) || st[1]["Effect"] != "Deny" {
		t.Errorf("deny: got %v, want the suspect under any path", st[1])
	}
	if got.versioning != "Enabled" {
		t.Errorf("versioning: got %q, want Enabled", got.versioning)
	}
	if got.logging == nil || *got.logging != (logTarget{"logs", "s3-access-logs/victim/"}) {
		t.Errorf("logging: got %+v, want logs/s3-access-logs/victim/", got.logging)
	}
	if lst := statements(t, w.read(t, "logs").policy); len(lst) != 1 || lst[0]["Sid"] != logGrantSid("victim") {
		t.Errorf("log bucket policy: got %v, want the logging service's grant", lst)
	}
	if got.tags["team"] != "payments" || got.tags[awsapi.TagCase] != "cr-test" || got.tags[prevTagPAB] != "none" ||
		got.tags[prevTagVersioning] != "none" || got.tags[prevTagLogging] != "none" {
		t.Errorf("tags: got %v, want the bucket's own, the case and the prev state", got.tags)
	}
	// The state before is on the bucket before anything else changes, and
	// the artifact holds what an examiner needs.
	if ch := awstest.Changes(ev); len(ch) == 0 || ch[0] != "s3:PutBucketTagging" {
		t.Errorf("changes: got %v, want the tags holding the state before first", ch)
	}
	body, ok := ev.Object("pre-containment-state.json")
	if !ok {
		t.Fatalf("no pre-containment-state.json among %v", ev.Names())
	}
	var rec struct {
		State         bucketState
		Configuration bucketConfig
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.State.Policy != ownPolicy && !samePolicy(rec.State.Policy, ownPolicy) || rec.State.PublicAccessBlock != nil || rec.State.Versioning != "" ||
		rec.State.Logging != nil || rec.State.Tags["team"] != "payments" {
		t.Errorf("recorded state: got %+v", rec.State)
	}
	if acl := string(mustJSON(t, rec.Configuration.Values["acl"])); !strings.Contains(acl, "AllUsers") {
		t.Errorf("recorded ACL: got %s, want the public-read grant to AllUsers", acl)
	}
	if oc := string(mustJSON(t, rec.Configuration.Values["ownership_controls"])); !strings.Contains(oc, "ObjectWriter") {
		t.Errorf("recorded ownership controls: got %s", oc)
	}
	if out["substeps"].(map[string]any)["policy"] != "done" {
		t.Errorf("substeps: got %v", out["substeps"])
	}

	again, ev2, err := w.e.Run(t, w.reg, "contain-bucket", params)
	if err != nil {
		t.Fatalf("second contain-bucket: %v", err)
	}
	if m := w.e.Mutations(); len(m) != 0 || len(awstest.Changes(ev2)) != 0 {
		t.Errorf("second run: mutating calls %v, changes %v; want none", m, awstest.Changes(ev2))
	}
	if ps, _ := again["previous_state"].(map[string]any); ps["from_tags"] != true || ps["policy"] == "" {
		t.Errorf("second run's previous_state: got %v, want the state before read back from the tags", ps)
	}
	if rs, err := bucketStateFromMap(again["previous_state"].(map[string]any)); err != nil || !samePolicy(rs.Policy, ownPolicy) {
		t.Errorf("second run's recorded policy: got %q, want the bucket's own (%v)", rs.Policy, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
