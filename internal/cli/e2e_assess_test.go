package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestAssessOnMoto drives `firebreak assess` as a responder does: flags
// parsed, comma lists split, the report rendered, exit codes from it.
func TestAssessOnMoto(t *testing.T) {
	s, m := awsSandbox(t)
	api := s3.NewFromConfig(m.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := api.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("open"), ACL: "public-read-write"}); err != nil {
		t.Fatal(err)
	}
	r := s.run("assess", "--format", "json", "--regions", "us-east-1", "--checks", "s3.bucket.public-acl,s3.bucket.versioning").want(t, 1)
	if !strings.Contains(r.stdout, `"high_failed": 1`) || !strings.Contains(r.stderr, "1 high-severity check result(s) failed") {
		t.Errorf("public bucket: want one high failure in the JSON and the reason on stderr:\n%s", r)
	}
	s.run("assess", "--format", "json", "--regions", "us-east-1", "--checks", "s3.bucket.versioning").want(t, 0) // a medium failure only
	if _, err := api.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("closed")}); err != nil {
		t.Fatal(err)
	}
	r = s.run("assess", "--regions", "us-east-1", "--checks", "s3.bucket.public-acl").want(t, 1)
	if !strings.Contains(r.stdout, "  1 passed (--all lists them)\n") || strings.Contains(r.stdout, "PASS") || !strings.Contains(r.stdout, "FAIL ") {
		t.Errorf("table: want the failure listed and the pass counted:\n%s", r.stdout)
	}
	r = s.run("assess", "--regions", "us-east-1", "--checks", "s3.bucket.public-acl", "--all").want(t, 1)
	if !strings.Contains(r.stdout, "PASS ") || strings.Contains(r.stdout, "--all lists") {
		t.Errorf("table --all: want the pass listed:\n%s", r.stdout)
	}
	s.run("assess", "--format", "yaml", "--regions", "us-east-1").want(t, 2)
	r = s.run("assess", "--regions", "us-east-1", "--checks", "s4.*").want(t, 2)
	if r.stdout != "" {
		t.Errorf("--checks matching nothing wrote a report:\n%s", r.stdout)
	}
}
