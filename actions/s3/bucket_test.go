package s3

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// details are the custody events' details, in order.
func details(ev *enginetest.Evidence) []map[string]any {
	var out []map[string]any
	for _, e := range ev.Events() {
		out = append(out, e.Detail)
	}
	return out
}

type bucketEnv struct {
	s3  *s3.Client
	act engine.Action
}

func newBucketEnv(t *testing.T) *bucketEnv {
	t.Helper()
	m := testenv.StartMoto(t)
	reg := engine.NewRegistry()
	c := awsapi.NewClients(m.Config())
	Register(reg, c)
	a, _ := reg.Lookup("evidence-bucket")
	return &bucketEnv{s3: c.S3(""), act: a}
}

func (e *bucketEnv) run(t *testing.T, p engine.Params) (engine.Outputs, *enginetest.Evidence, error) {
	t.Helper()
	ev := enginetest.NewEvidence()
	out, err := e.act.Run(testenv.Context(t), &engine.StepInput{CaseID: "cr-b", StepID: "bucket", Params: p, Evidence: ev})
	return out, ev, err
}

// readBack asserts every hardening through the S3 API itself.
func (e *bucketEnv) readBack(t *testing.T, bucket, kmsKey string, days int32) {
	t.Helper()
	ctx := testenv.Context(t)
	b := aws.String(bucket)
	v, err := e.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	if err != nil || v.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("versioning: got %v (err %v), want Enabled", v, err)
	}
	enc, err := e.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	if err != nil {
		t.Errorf("GetBucketEncryption: %v", err)
	} else {
		d := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
		wantAlg := types.ServerSideEncryptionAes256
		if kmsKey != "" {
			wantAlg = types.ServerSideEncryptionAwsKms
		}
		if d.SSEAlgorithm != wantAlg || aws.ToString(d.KMSMasterKeyID) != kmsKey {
			t.Errorf("encryption: got %s key %q, want %s key %q", d.SSEAlgorithm, aws.ToString(d.KMSMasterKeyID), wantAlg, kmsKey)
		}
	}
	pab, err := e.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	if err != nil {
		t.Errorf("GetPublicAccessBlock: %v", err)
	} else if c := pab.PublicAccessBlockConfiguration; !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) ||
		!aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
		t.Errorf("public access block: got %+v, want all four on", *c)
	}
	pol, err := e.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	if err != nil {
		t.Errorf("GetBucketPolicy: %v", err)
	} else {
		var doc struct{ Statement []map[string]any }
		if err := json.Unmarshal([]byte(aws.ToString(pol.Policy)), &doc); err != nil {
			t.Errorf("policy %s: %v", aws.ToString(pol.Policy), err)
		}
		found := false
		for _, s := range doc.Statement {
			found = found || deniesInsecureTransport(s, bucket)
		}
		if !found {
			t.Errorf("policy: got %s, want a Deny on aws:SecureTransport false", aws.ToString(pol.Policy))
		}
	}
	ol, err := e.s3.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b})
	if err != nil {
		t.Errorf("GetObjectLockConfiguration: %v", err)
	} else if c := ol.ObjectLockConfiguration; c.ObjectLockEnabled != types.ObjectLockEnabledEnabled || c.Rule == nil ||
		c.Rule.DefaultRetention.Mode != types.ObjectLockRetentionModeGovernance || aws.ToInt32(c.Rule.DefaultRetention.Days) != days {
		t.Errorf("object lock: got %+v, want Enabled, GOVERNANCE %d days", c, days)
	}
}

func TestEvidenceBucketCreatesEveryHardening(t *testing.T) {
	e := newBucketEnv(t)
	tests := []struct {
		name, bucket, kms string
	}{
		{name: "aes256", bucket: "fb-evidence-aes"},
		{name: "kms", bucket: "fb-evidence-kms", kms: "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ev, err := e.run(t, engine.Params{"bucket": tt.bucket, "kms_key_id": tt.kms, "retention_days": 30})
			if err != nil {
				t.Fatalf("evidence-bucket: %v", err)
			}
			if out["created"] != true || out["hardened"] != true || len(out["missing"].([]any)) != 0 {
				t.Errorf("outputs: got %v, want created and hardened", out)
			}
			if len(details(ev)) < 2 || details(ev)[0]["call"] != "s3:CreateBucket" {
				t.Errorf("custody events: got %v, want CreateBucket then the settings", details(ev))
			}
			e.readBack(t, tt.bucket, tt.kms, 30)
			again, ev2, err := e.run(t, engine.Params{"bucket": tt.bucket, "kms_key_id": tt.kms, "retention_days": 30})
			if err != nil || again["created"] != false || again["hardened"] != true || len(details(ev2)) != 0 {
				t.Errorf("second run: got %v, events %v, err %v; want nothing to do", again, details(ev2), err)
			}
			for k, v := range again["checks"].(map[string]any) {
				if v != "ok" {
					t.Errorf("second run check %s: got %v, want ok", k, v)
				}
			}
		})
	}
}

func TestEvidenceBucketReportsAndFixesAPlainBucket(t *testing.T) {
	e := newBucketEnv(t)
	ctx := testenv.Context(t)
	const bucket = "fb-plain"
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	// Someone else's statement, which the fix must keep.
	other := `{"Version":"2012-10-17","Statement":[{"Sid":"Audit","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::fb-plain/*"}]}`
	if _, err := e.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(other)}); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
	// strict is the default: a bucket that is not hardened fails the step,
	// naming every missing setting, and nothing is changed.
	_, ev, err := e.run(t, engine.Params{"bucket": bucket, "retention_days": 7})
	if err == nil || !strings.Contains(err.Error(), `bucket "fb-plain" is not hardened, missing: `) {
		t.Errorf("default (strict): got %v, want a not hardened error", err)
	}
	for _, name := range []string{"versioning", "public_access_block", "tls_only", "object_lock"} {
		if err == nil || !strings.Contains(err.Error(), name+": ") {
			t.Errorf("default (strict): got %v, want it to name %s", err, name)
		}
	}
	if len(details(ev)) != 0 {
		t.Errorf("default (strict): events %v, want nothing changed", details(ev))
	}
	out, ev, err := e.run(t, engine.Params{"bucket": bucket, "retention_days": 7, "strict": false})
	if err != nil {
		t.Fatalf("check with strict: false: %v", err)
	}
	checks := out["checks"].(map[string]any)
	for _, name := range []string{"versioning", "public_access_block", "tls_only", "object_lock"} {
		if checks[name] != "missing" {
			t.Errorf("check %s: got %v, want missing", name, checks[name])
		}
	}
	t.Logf("plain bucket checks: %v; missing: %v", checks, out["missing"])
	if out["hardened"] != false || out["created"] != false || len(details(ev)) != 0 {
		t.Errorf("check only: got %v, events %v; want not hardened, nothing changed", out, details(ev))
	}
	v, _ := e.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if v.Status == types.BucketVersioningStatusEnabled {
		t.Errorf("versioning enabled by a run without fix")
	}
	if _, _, err := e.run(t, engine.Params{"bucket": bucket, "strict": true}); err == nil || !strings.Contains(err.Error(), "is not hardened") {
		t.Errorf("strict: got %v, want a not hardened error", err)
	}
	if spec, _ := e.act.Spec().Param("strict"); spec.Default != true {
		t.Errorf("strict default: got %v, want true", spec.Default)
	}

	fixed, _, err := e.run(t, engine.Params{"bucket": bucket, "retention_days": 7, "fix": true})
	if err != nil {
		t.Fatalf("fix: %v", err)
	}
	t.Logf("after fix: %v; missing: %v", fixed["checks"], fixed["missing"])
	for _, name := range []string{"versioning", "public_access_block", "tls_only"} {
		if fixed["checks"].(map[string]any)[name] != "fixed" {
			t.Errorf("fix %s: got %v, want fixed", name, fixed["checks"].(map[string]any)[name])
		}
	}
	// moto, like AWS since 2023, lets Object Lock be enabled on a versioned
	// bucket made without it, so the fixed bucket reads back fully hardened.
	e.readBack(t, bucket, "", 7)
	pol, err := e.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), `"Audit"`) || !strings.Contains(aws.ToString(pol.Policy), tlsSid) {
		t.Errorf("policy after fix: got %s (err %v), want the Audit statement kept and %s added", aws.ToString(pol.Policy), err, tlsSid)
	}
}

func TestEvidenceBucketRefusesBadNames(t *testing.T) {
	t.Parallel()
	a := &evidenceBucket{api: func(string) bucketAPI { t.Error("no AWS call expected"); return nil }}
	for _, name := range []string{"", "UPPER", "a", "has.dot", "-lead"} {
		_, err := a.Run(context.Background(), &engine.StepInput{Params: engine.Params{"bucket": name}, Evidence: enginetest.NewEvidence()})
		want := `evidence-bucket: bucket "` + name + `" is not a valid name`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("bucket %q: got %v, want %q", name, err, want)
		}
	}
}

func TestEvidenceBucketPlanReadsOnly(t *testing.T) {
	e := newBucketEnv(t)
	ctx := testenv.Context(t)
	pl := e.act.(engine.Planner)
	d, err := pl.Plan(ctx, &engine.PlanInput{Check: true, Params: engine.Params{"bucket": "fb-not-yet"}})
	if err != nil || len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "would be created") {
		t.Errorf("plan of a missing bucket: got %+v (err %v), want it would be created", d, err)
	}
	if _, err := e.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("fb-not-yet")}); err == nil {
		t.Errorf("plan created the bucket")
	}
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("fb-plain-plan")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	// strict (the default) without fix: the run would fail, a problem.
	d, err = pl.Plan(ctx, &engine.PlanInput{Check: true, Params: engine.Params{"bucket": "fb-plain-plan"}})
	if err != nil || len(d.Problems) < 4 || len(d.Notes) != 0 || !strings.Contains(d.Problems[0], "the run would fail") {
		t.Errorf("plan of a plain bucket: got %+v (err %v), want each missing setting a problem", d, err)
	}
	for _, p := range []engine.Params{{"bucket": "fb-plain-plan", "strict": false}, {"bucket": "fb-plain-plan", "fix": true}} {
		d, err = pl.Plan(ctx, &engine.PlanInput{Check: true, Params: p})
		if err != nil || len(d.Problems) != 0 || len(d.Notes) < 4 {
			t.Errorf("plan of a plain bucket with %v: got %+v (err %v), want each missing setting noted", p, d, err)
		}
	}
	v, _ := e.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("fb-plain-plan")})
	if v.Status == types.BucketVersioningStatusEnabled {
		t.Errorf("plan enabled versioning")
	}
}
