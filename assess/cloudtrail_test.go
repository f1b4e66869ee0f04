package assess

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestCloudTrailOnMoto: a multi-region trail with validation that logs
// passes all three checks; a single-region trail without validation whose
// logging was never started fails validation and logging; with only that
// trail, multi-region fails; with no trail, all three fail.
func TestCloudTrailOnMoto(t *testing.T) {
	a := startAccount(t)
	ct := a.clients.CloudTrail("us-east-1")
	ok := noErr(t)
	setup := func() {
		ok(a.clients.S3("us-east-1").CreateBucket(a.ctx, &s3.CreateBucketInput{Bucket: str("trail-logs")}))
	}
	setup()
	ok(ct.CreateTrail(a.ctx, &cloudtrail.CreateTrailInput{Name: str("single"), S3BucketName: str("trail-logs")}))

	rep := a.assess(t, "cloudtrail.*", "us-east-1", "eu-west-1")
	want(t, verdict(t, rep, "cloudtrail.multi-region", "cloudtrail"), Fail)
	want(t, verdict(t, rep, "cloudtrail.log-validation", "trail/single"), Fail)
	want(t, verdict(t, rep, "cloudtrail.logging", "trail/single"), Fail)

	ok(ct.CreateTrail(a.ctx, &cloudtrail.CreateTrailInput{Name: str("all"), S3BucketName: str("trail-logs"),
		IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true)}))
	ok(ct.StartLogging(a.ctx, &cloudtrail.StartLoggingInput{Name: str("all")}))
	rep = a.assess(t, "cloudtrail.*", "us-east-1", "eu-west-1")
	want(t, verdict(t, rep, "cloudtrail.multi-region", "cloudtrail"), Pass)
	want(t, verdict(t, rep, "cloudtrail.log-validation", "trail/all"), Pass)
	want(t, verdict(t, rep, "cloudtrail.logging", "trail/all"), Pass)
	want(t, verdict(t, rep, "cloudtrail.logging", "trail/single"), Fail)

	a.moto.Reset(t)
	rep = a.assess(t, "cloudtrail.*", "us-east-1")
	for _, id := range []string{"cloudtrail.multi-region", "cloudtrail.log-validation", "cloudtrail.logging"} {
		want(t, verdict(t, rep, id, "cloudtrail"), Fail)
	}
}
