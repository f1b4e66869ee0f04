package cli

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestEvidenceBucketCreate: `evidence-bucket create` makes the bucket a
// run's --evidence names, hardened as the evidence-bucket action checks
// it (read back through the S3 API); again, it changes nothing; on a plain
// bucket it fixes each setting. Bad locations are usage errors that call nothing.
func TestEvidenceBucketCreate(t *testing.T) {
	s, m := awsSandbox(t)
	ctx := testenv.Context(t)
	api := s3.NewFromConfig(m.Config(), func(o *s3.Options) { o.UsePathStyle = true })

	r := s.run("evidence-bucket", "create", "s3://fb-evidence/cases").want(t, 0)
	contains(t, "create", r.stdout, "changed: s3:CreateBucket on fb-evidence", "bucket fb-evidence created:",
		"object_lock          fixed", "tls_only             fixed", "evidence location s3://fb-evidence/cases is ready")
	hardened(t, api, "fb-evidence", true)

	r = s.run("evidence-bucket", "init", "s3://fb-evidence").want(t, 0)
	if strings.Contains(r.stdout, "changed:") || strings.Contains(r.stdout, "fixed") {
		t.Errorf("a second create changed a hardened bucket:\n%s", r)
	}
	contains(t, "again", r.stdout, "bucket fb-evidence exists:", "versioning           ok")

	// A plain bucket (made without Object Lock: no lock asked for) is fixed
	// setting by setting.
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("fb-plain")}); err != nil {
		t.Fatal(err)
	}
	r = s.run("evidence-bucket", "create", "--no-object-lock", "s3://fb-plain/p").want(t, 0)
	for _, h := range []string{"s3:PutPublicAccessBlock", "s3:PutBucketEncryption", "s3:PutBucketVersioning", "s3:PutBucketPolicy"} {
		contains(t, "fix", r.stdout, "changed: "+h+" on fb-plain (was: ")
	}
	contains(t, "fix", r.stdout, "not asked for (--no-object-lock)")
	if strings.Contains(r.stdout, "PutObjectLockConfiguration") {
		t.Errorf("--no-object-lock set Object Lock:\n%s", r)
	}
	hardened(t, api, "fb-plain", false)

	// (No run keeps a case there: moto answers plain HTTP, which the
	// TLS-only policy refuses, as AWS would.)

	for _, bad := range [][]string{
		{"create", "/tmp/local-dir"}, {"create", "s3:/fb-x"}, {"create", "s3://Bad_Name/x"},
		{"create", "--retention-days", "0", "s3://fb-y"}, {"create"}, {"nope"},
	} {
		r := s.run(append([]string{"evidence-bucket"}, bad...)...).want(t, 2)
		if strings.Contains(r.stdout, "changed:") {
			t.Errorf("%q changed something:\n%s", bad, r)
		}
	}
	list, err := api.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.Buckets); n != 2 {
		t.Errorf("%d buckets, want the 2 made above: the refused commands created some", n)
	}
}

// hardened reads every setting of bucket back through the S3 API.
func hardened(t *testing.T, api *s3.Client, bucket string, lock bool) {
	t.Helper()
	ctx := testenv.Context(t)
	b := aws.String(bucket)
	if v, err := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b}); err != nil || v.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("%s versioning: %v %v", bucket, v, err)
	}
	if e, err := api.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b}); err != nil ||
		e.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 {
		t.Errorf("%s encryption: %v", bucket, err)
	}
	if p, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b}); err != nil || !aws.ToBool(p.PublicAccessBlockConfiguration.RestrictPublicBuckets) ||
		!aws.ToBool(p.PublicAccessBlockConfiguration.BlockPublicPolicy) {
		t.Errorf("%s public access block: %v", bucket, err)
	}
	if p, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); err != nil || !strings.Contains(aws.ToString(p.Policy), "aws:SecureTransport") {
		t.Errorf("%s TLS-only policy: %v", bucket, err)
	}
	ol, err := api.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b})
	on := err == nil && ol.ObjectLockConfiguration != nil && ol.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled
	if on != lock {
		t.Errorf("%s Object Lock on: %v, want %v", bucket, on, lock)
	}
	if lock && (ol.ObjectLockConfiguration.Rule == nil || aws.ToInt32(ol.ObjectLockConfiguration.Rule.DefaultRetention.Days) != 365) {
		t.Errorf("%s Object Lock retention: %+v, want governance 365 days", bucket, ol.ObjectLockConfiguration.Rule)
	}
}
