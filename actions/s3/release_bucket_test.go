package s3

import (
	"context"
	"fmt"
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

// wantRestored fails unless bucket's configuration read back is the
// recorded state exactly (versioning aside when it had none: S3 cannot
// turn it off).
func (w *bucketWorld) wantRestored(t *testing.T, bucket string, rec *bucketState) {
	t.Helper()
	got := w.read(t, bucket)
	if !samePolicy(got.policy, rec.Policy) {
		t.Errorf("policy: got %s, want the recorded %s", got.policy, rec.Policy)
	}
	if (got.pab == nil) != (rec.PublicAccessBlock == nil) || got.pab != nil && *got.pab != *rec.PublicAccessBlock {
		t.Errorf("public access block: got %+v, want the recorded %+v", got.pab, rec.PublicAccessBlock)
	}
	wantV := rec.Versioning
	if wantV == "" {
		wantV = "Suspended"
	}
	if got.versioning != wantV {
		t.Errorf("versioning: got %q, want %q (recorded %q)", got.versioning, wantV, rec.Versioning)
	}
	if !sameTarget(got.logging, rec.Logging) {
		t.Errorf("logging: got %+v, want the recorded %+v", got.logging, rec.Logging)
	}
	own := ownTags(got.tags)
	if len(own) != len(rec.Tags) {
		t.Errorf("tags: got %v, want the recorded %v", own, rec.Tags)
	}
	for k, v := range rec.Tags {
		if own[k] != v {
			t.Errorf("tag %s: got %q, want the recorded %q", k, own[k], v)
		}
	}
	for k := range got.tags {
		if strings.HasPrefix(k, "firebreak:prev:") {
			t.Errorf("tag %s left behind", k)
		}
	}
}

// TestReleaseBucketFromTags: release-bucket, given only the bucket, puts
// back the configuration contain-bucket recorded (the bucket's own policy
// statement for statement, no public access block, logging off, its own
// tags), takes the log bucket's grant out, and says versioning stays
// Suspended. A second release changes nothing.
func TestReleaseBucketFromTags(t *testing.T) {
	w := newBucketWorld(t)
	out, ev, err := w.e.Run(t, w.reg, "contain-bucket", engine.Params{"bucket": "victim", "deny_principals": []any{suspect},
		"deny_all_but_responder": true, "log_bucket": "logs"})
	if err != nil {
		t.Fatalf("contain-bucket: %v", err)
	}
	if st := statements(t, w.read(t, "victim").policy); len(st) != 3 || st[2]["Sid"] != sidDenyAllBut {
		t.Fatalf("policy after containment: got %v, want the own statement, the suspects' deny and the deny-all", st)
	}
	rec, err := bucketStateFromMap(out["previous_state"].(map[string]any))
	if err != nil {
		t.Fatal(err)
	}
	_ = ev
	rel, ev2, err := w.e.Run(t, w.reg, "release-bucket", engine.Params{"bucket": "victim"})
	if err != nil {
		t.Fatalf("release-bucket: %v", err)
	}
	w.wantRestored(t, "victim", rec)
	if lp := w.read(t, "logs").policy; lp != "" {
		t.Errorf("log bucket policy: got %s, want none again (it had none)", lp)
	}
	nr := rel["not_restored"].([]any)
	if len(nr) != 1 || !strings.Contains(nr[0].(string), "left Suspended") {
		t.Errorf("not_restored: got %v, want versioning named", nr)
	}
	if tags := w.read(t, "victim").tags; tags[awsapi.TagStatus] != "released" || tags[awsapi.TagCase] != "cr-test" {
		t.Errorf("tags: got %v, want the case kept and status released", tags)
	}
	if !slices.Contains(awstest.Changes(ev2), "s3:DeletePublicAccessBlock") {
		t.Errorf("release changes: got %v, want the public access block removed as it was", awstest.Changes(ev2))
	}
	if again, _, err := w.e.Run(t, w.reg, "release-bucket", engine.Params{"bucket": "victim"}); err != nil ||
		!strings.Contains(fmt.Sprint(again["substeps"]), "released already") {
		t.Errorf("second release from tags: got %v, %v; want: released already", again, err)
	}
	if m := w.e.Mutations(); len(m) != 0 {
		t.Errorf("second release: mutating calls %v, want none", m)
	}
}

// TestReleaseBucketFromPreviousState: a bucket that had Block Public
// Access partly on, versioning Suspended and logging to another bucket is
// put back exactly from contain-bucket's previous_state output, twice
// with no change the second time.
func TestReleaseBucketFromPreviousState(t *testing.T) {
	w := newBucketWorld(t)
	ctx := awstest.Ctx(t)
	b := aws.String("victim")
	must(t, func() error {
		_, err := w.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: (&pab{true, false, true, false}).sdk()})
		return err
	})
	must(t, func() error {
		return putVersioning(ctx, w.s3, awsapi.PlanEvidence, "victim", types.BucketVersioningStatusSuspended)
	})
	must(t, func() error {
		if _, err := w.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("old-logs")}); err != nil {
			return err
		}
		return grantAndLog(ctx, w.s3, "victim", &logTarget{"old-logs", "victim/"})
	})
	out, _, err := w.e.Run(t, w.reg, "contain-bucket", engine.Params{"bucket": "victim", "deny_principals": []any{suspect}, "log_bucket": "logs"})
	if err != nil {
		t.Fatalf("contain-bucket: %v", err)
	}
	prev := out["previous_state"].(map[string]any)
	rec, _ := bucketStateFromMap(prev)
	if rec.Versioning != "Suspended" || *rec.PublicAccessBlock != (pab{true, false, true, false}) || rec.Logging.Bucket != "old-logs" {
		t.Fatalf("recorded: got %+v", rec)
	}
	rel, _, err := w.e.Run(t, w.reg, "release-bucket", engine.Params{"bucket": "victim", "previous_state": prev})
	if err != nil {
		t.Fatalf("release-bucket: %v", err)
	}
	if nr := rel["not_restored"].([]any); len(nr) != 0 {
		t.Errorf("not_restored: got %v, want nothing", nr)
	}
	w.wantRestored(t, "victim", rec)
	if _, _, err := w.e.Run(t, w.reg, "release-bucket", engine.Params{"bucket": "victim", "previous_state": prev}); err != nil {
		t.Fatalf("second release-bucket: %v", err)
	}
	if m := w.e.Mutations(); len(m) != 0 {
		t.Errorf("second release: mutating calls %v, want none", m)
	}
	w.wantRestored(t, "victim", rec)
}

// grantAndLog sets up logging from source to a target the way S3 wants it.
func grantAndLog(ctx context.Context, api bucketOps, source string, to *logTarget) error {
	if err := grantLogs(ctx, api, awsapi.PlanEvidence, source, to); err != nil {
		return err
	}
	return putLogging(ctx, api, awsapi.PlanEvidence, source, to)
}

// TestContainBucketPlanChangesNothing: plan --check reads the bucket and
// says what a run would change, with no mutating call.
func TestContainBucketPlanChangesNothing(t *testing.T) {
	w := newBucketWorld(t)
	for _, name := range []string{"contain-bucket", "release-bucket", "collect-bucket"} {
		d := w.e.Plan(t, w.reg, name, engine.Params{"bucket": "victim", "deny_principals": []any{suspect}, "log_bucket": "logs",
			"versioning": true, "log_prefix": "s3-access-logs/", "max_versions": 10})
		if m := w.e.Mutations(); len(m) != 0 || w.e.Reads() == 0 {
			t.Errorf("%s plan: mutating calls %v, %d reads; want none and some", name, m, w.e.Reads())
		}
		t.Logf("%s: calls %q notes %q problems %q", name, d.Calls, d.Notes, d.Problems)
		if name == "contain-bucket" && !slices.ContainsFunc(d.Notes, func(n string) bool { return strings.Contains(n, "it would be turned on") }) {
			t.Errorf("contain-bucket plan notes: got %q, want what would change", d.Notes)
		}
		if name == "release-bucket" && (len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "never contained")) {
			t.Errorf("release-bucket plan of a bucket never contained: got problems %q", d.Problems)
		}
	}
}

// TestContainBucketRefusesToDenyTheRun: the run may not deny itself.
func TestContainBucketRefusesToDenyTheRun(t *testing.T) {
	w := newBucketWorld(t)
	who, err := awsapi.CallerARN(awstest.Ctx(t), w.e.Clients)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = w.e.Run(t, w.reg, "contain-bucket", engine.Params{"bucket": "victim", "deny_principals": []any{who}})
	if err == nil || !strings.Contains(err.Error(), "would cut the run off") || len(w.e.Mutations()) != 0 {
		t.Errorf("got %v and changes %v, want a refusal and no change", err, w.e.Mutations())
	}
}
