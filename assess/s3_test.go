package assess

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3ChecksOnMoto sets up one bucket for each verdict of each S3 check
// and asserts it: versioning and logging on pass (ThreatPrep had them
// inverted), off fail.
func TestS3ChecksOnMoto(t *testing.T) {
	a := startAccount(t)
	api := a.clients.S3("us-east-1")
	ok := noErr(t)
	mk := func(name string, acl types.BucketCannedACL) {
		t.Helper()
		if _, err := api.CreateBucket(a.ctx, &s3.CreateBucketInput{Bucket: str(name), ACL: acl}); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []string{"ver-on", "ver-off", "log-on", "bpa-on", "enc-on", "enc-off"} {
		mk(b, "")
	}
	mk("log-target", types.BucketCannedACL("log-delivery-write"))
	mk("public-read", types.BucketCannedACLPublicRead)
	mk("public-write", types.BucketCannedACLPublicReadWrite)
	ok(api.PutBucketVersioning(a.ctx, &s3.PutBucketVersioningInput{Bucket: str("ver-on"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))
	ok(api.PutBucketLogging(a.ctx, &s3.PutBucketLoggingInput{Bucket: str("log-on"), BucketLoggingStatus: &types.BucketLoggingStatus{
		LoggingEnabled: &types.LoggingEnabled{TargetBucket: str("log-target"), TargetPrefix: str("log-on/")}}}))
	ok(api.PutPublicAccessBlock(a.ctx, &s3.PutPublicAccessBlockInput{Bucket: str("bpa-on"), PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}))
	ok(api.PutBucketEncryption(a.ctx, &s3.PutBucketEncryptionInput{Bucket: str("enc-on"), ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
		Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms}}}}}))
	// New buckets may carry SSE-S3 by default, as real S3 does since 2023:
	// the failing case needs it removed.
	ok(api.DeleteBucketEncryption(a.ctx, &s3.DeleteBucketEncryptionInput{Bucket: str("enc-off")}))

	rep := a.assess(t, "s3.*")
	tests := []struct {
		name, check, bucket string
		want                Status
	}{
		{"versioning on", "s3.bucket.versioning", ":::ver-on", Pass},
		{"versioning off", "s3.bucket.versioning", ":::ver-off", Fail},
		{"logging on", "s3.bucket.logging", ":::log-on", Pass},
		{"logging off", "s3.bucket.logging", ":::ver-off", Fail},
		{"private ACL", "s3.bucket.public-acl", ":::ver-off", Pass},
		{"public-read ACL", "s3.bucket.public-acl", ":::public-read", Fail},
		{"public-read-write ACL", "s3.bucket.public-acl", ":::public-write", Fail},
		{"BPA on", "s3.bucket.public-access-block", ":::bpa-on", Pass},
		{"BPA absent", "s3.bucket.public-access-block", ":::ver-off", Fail},
		{"encryption KMS", "s3.bucket.encryption", ":::enc-on", Pass},
		{"encryption removed", "s3.bucket.encryption", ":::enc-off", Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want(t, verdict(t, rep, tt.check, tt.bucket), tt.want)
		})
	}
}
