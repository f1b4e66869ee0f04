package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// awsSandbox is a sandbox whose AWS configuration reaches a private
// moto_server and nothing else.
func awsSandbox(t *testing.T) (*sandbox, *testenv.Moto) {
	m := testenv.StartMoto(t)
	s := newSandbox(t)
	s.env = append(s.env,
		"AWS_ENDPOINT_URL="+m.URL, "AWS_REGION="+m.Region,
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_SESSION_TOKEN=testing")
	return s, m
}

var s3Manifest = regexp.MustCompile(`(?m)^manifest: (s3://\S+)/manifest\.json$`)

func TestRunWithS3EvidenceAndOperator(t *testing.T) {
	s, m := awsSandbox(t)
	ctx := testenv.Context(t)
	api := s3.NewFromConfig(m.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("evidence")}); err != nil {
		t.Fatalf("creating the bucket: %v", err)
	}
	r := s.run("run", "local-check", "--evidence", "s3://evidence/cases", "--case", "case-s3").want(t, 0)
	match := s3Manifest.FindStringSubmatch(r.stderr)
	if match == nil || match[1] != "s3://evidence/cases/case-s3" {
		t.Fatalf("want the manifest at s3://evidence/cases/case-s3/manifest.json\n%s", r)
	}
	obj, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("evidence"), Key: aws.String("cases/case-s3/manifest.json")})
	if err != nil {
		t.Fatalf("reading the manifest from S3: %v", err)
	}
	data, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	var man struct {
		Operator struct{ ARN, Account string } `json:"operator"`
		Status   string
	}
	if err := json.Unmarshal(data, &man); err != nil {
		t.Fatal(err)
	}
	// With AWS configured the operator is sts:GetCallerIdentity's answer.
	if !strings.HasPrefix(man.Operator.ARN, "arn:aws:") || man.Operator.Account == "" || man.Status != "succeeded" {
		t.Errorf("manifest: got operator %+v status %q, want the caller's ARN and account, succeeded", man.Operator, man.Status)
	}
	s.run("verify", "s3://evidence/cases/case-s3").want(t, 0)

	// Replace one artifact in the bucket: verify must notice.
	list, err := api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("evidence"), Prefix: aws.String("cases/case-s3/artifacts/")})
	if err != nil || len(list.Contents) == 0 {
		t.Fatalf("listing artifacts: %v (%d)", err, len(list.Contents))
	}
	key := aws.ToString(list.Contents[0].Key)
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("evidence"), Key: aws.String(key), Body: bytes.NewReader([]byte("forged"))}); err != nil {
		t.Fatal(err)
	}
	r = s.run("verify", "s3://evidence/cases/case-s3/manifest.json").want(t, 1)
	contains(t, "verify", r.stdout, "MISMATCH", "artifact")
}

func TestIAMPolicyOfAWSPlaybook(t *testing.T) {
	s := newSandbox(t)
	r := s.run("iam-policy", "host-compromise").want(t, 0)
	var doc struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   []string
			Resource any
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("iam-policy is not JSON: %v\n%s", err, r)
	}
	// The calls on "*" first; iam:PassRole, the inline-policy writes and
	// the permission check follow in statements of their own
	// (TestIAMPolicyGolden).
	if len(doc.Statement) != 4 || doc.Statement[0].Effect != "Allow" || doc.Statement[0].Resource != "*" {
		t.Fatalf("got %+v, want four Allow statements, the first on \"*\"", doc)
	}
	acts := doc.Statement[0].Action
	if !slices.IsSorted(acts) || len(slices.Compact(slices.Clone(acts))) != len(acts) {
		t.Errorf("actions not sorted and unique: %q", acts)
	}
	for _, want := range []string{"ec2:CreateSnapshots", "ec2:DescribeInstances"} {
		if !slices.Contains(acts, want) {
			t.Errorf("policy lacks %s: %q", want, acts)
		}
	}
}

func TestDemo(t *testing.T) {
	testenv.LookPath(t, "moto_server")
	s := newSandbox(t)
	s.run("demo").want(t, 2) // the responder's binary has no demo, and says where it is
	s.bin = labBin.Path(t)
	evidence := filepath.Join(s.dir, "demo-evidence")
	r := s.run("demo", "--evidence", evidence).want(t, 0)
	contains(t, "demo", r.stderr, "host-compromise", "run run-", ": succeeded")
	contains(t, "demo verify", r.stdout, "OK: every artifact, the custody chain and the signature match")
	s.run("verify", r.manifestPath(t)).want(t, 0) // the kept evidence verifies on its own
	if _, err := os.Stat(filepath.Join(s.state, "runs")); err == nil {
		t.Errorf("the demo wrote runs into the responder's state dir %s", s.state)
	}
}
