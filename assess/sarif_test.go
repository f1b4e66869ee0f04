package assess

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func loadSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, raw []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, raw)
	}
	return sch.Validate(inst)
}

// mixedReport has a pass, a high fail, a medium fail and an error.
func mixedReport() *Report {
	checks := []*Check{
		{ID: "s3.bucket.public-acl", Family: "s3", Title: "no public ACL", Severity: High, Scope: Regional, Description: "d"},
		{ID: "s3.bucket.versioning", Family: "s3", Title: "versioning", Severity: Medium, Scope: Regional, Description: "d"},
		{ID: "iam.root.mfa", Family: "iam", Title: "root MFA", Severity: High, Scope: Global, Description: "d"},
	}
	rs := []Result{
		{CheckID: "s3.bucket.public-acl", Family: "s3", Severity: High, Resource: "arn:aws:s3:::a", Region: "us-east-1", Status: Fail, Reason: "READ to AllUsers", Remediation: "aws s3api put-bucket-acl --bucket a --acl private"},
		{CheckID: "s3.bucket.versioning", Family: "s3", Severity: Medium, Resource: "arn:aws:s3:::a", Region: "us-east-1", Status: Fail, Reason: "off", Remediation: "aws s3api ..."},
		{CheckID: "s3.bucket.versioning", Family: "s3", Severity: Medium, Resource: "arn:aws:s3:::b", Region: "us-east-1", Status: Pass, Reason: "on"},
		{CheckID: "iam.root.mfa", Family: "iam", Severity: High, Resource: "root", Region: "global", Status: Error, Reason: "iam:GetAccountSummary: AccessDenied"},
	}
	return newReport(checks, []string{"us-east-1"}, rs)
}

func TestSARIFMatchesSchemaAndMeaning(t *testing.T) {
	t.Parallel()
	sch := loadSARIFSchema(t)
	var buf bytes.Buffer
	if err := Write(&buf, mixedReport(), "sarif", WriteOptions{Version: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, sch, buf.Bytes()); err != nil {
		t.Fatalf("SARIF does not match the schema: %v\n%s", err, buf.String())
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != 3 || run.Tool.Driver.Version != "1.2.3" {
		t.Fatalf("rules: got %d (version %q), want one per check (3)", len(run.Tool.Driver.Rules), run.Tool.Driver.Version)
	}
	got := map[string]sarifResult{}
	for _, r := range run.Results {
		got[r.RuleID+" "+r.Kind+" "+r.Level] = r
		if rule := run.Tool.Driver.Rules[r.RuleIndex]; rule.ID != r.RuleID {
			t.Errorf("result %s: ruleIndex %d names rule %s", r.RuleID, r.RuleIndex, rule.ID)
		}
	}
	for _, k := range []string{"s3.bucket.public-acl fail error", "s3.bucket.versioning fail warning", "iam.root.mfa open none"} {
		if _, ok := got[k]; !ok {
			t.Errorf("missing result %q; got %v", k, got)
		}
	}
	if len(run.Results) != 3 {
		t.Errorf("results: got %d, want 3 (passes are left out)", len(run.Results))
	}
	// GitHub code scanning needs a physicalLocation on every result, and
	// tracks alerts across uploads by partialFingerprints.
	wantURI := map[string]string{"s3.bucket.public-acl": "arn:aws:s3:::a", "s3.bucket.versioning": "arn:aws:s3:::a", "iam.root.mfa": "aws:global/root"}
	seen := map[string]string{}
	for _, r := range run.Results {
		if got := r.Locations[0].PhysicalLocation.ArtifactLocation.URI; got != wantURI[r.RuleID] {
			t.Errorf("%s: artifactLocation uri %q, want %q", r.RuleID, got, wantURI[r.RuleID])
		}
		fp := r.PartialFingerprints[fingerprintKey]
		if len(fp) != 32 {
			t.Errorf("%s: partialFingerprints %v", r.RuleID, r.PartialFingerprints)
		}
		if other, dup := seen[fp]; dup {
			t.Errorf("%s and %s share a fingerprint", r.RuleID, other)
		}
		seen[fp] = r.RuleID
	}
	// The same failure next time is the same alert; in another region, or on
	// another resource, another one.
	res := mixedReport().Results[0]
	again := res
	again.Reason = "worded otherwise"
	elsewhere := res
	elsewhere.Region = "eu-west-1"
	if fingerprint(res) != fingerprint(again) || fingerprint(res) == fingerprint(elsewhere) {
		t.Errorf("fingerprints: same failure %q/%q, other region %q", fingerprint(res), fingerprint(again), fingerprint(elsewhere))
	}
}

// TestSARIFURIOfAnyResource: a resource name with a space or non-ASCII
// still gives a valid uri (the schema checks the format).
func TestSARIFURIOfAnyResource(t *testing.T) {
	t.Parallel()
	rep := newReport([]*Check{{ID: "iam.user.x", Family: "iam", Title: "t", Severity: Low, Scope: Global, Description: "d"}}, []string{"us-east-1"},
		[]Result{{CheckID: "iam.user.x", Family: "iam", Severity: Low, Resource: "ops team ü\"x", Region: "global", Status: Fail, Reason: "r"}})
	var buf bytes.Buffer
	if err := Write(&buf, rep, "sarif", WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := validate(t, loadSARIFSchema(t), buf.Bytes()); err != nil {
		t.Fatalf("SARIF does not match the schema: %v\n%s", err, buf.String())
	}
	if got, want := resourceURI(rep.Results[0]), "aws:global/ops%20team%20%C3%BC%22x"; got != want {
		t.Errorf("uri %q, want %q", got, want)
	}
}

// TestSARIFSchemaRejects proves the vendored schema can fail: a SARIF log
// with a wrong level, a missing message, or an unknown field is refused.
func TestSARIFSchemaRejects(t *testing.T) {
	t.Parallel()
	sch := loadSARIFSchema(t)
	for name, doc := range map[string]string{
		"bad level":       `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"level":"critical","message":{"text":"m"}}]}]}`,
		"no message":      `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"a"}]}]}`,
		"unknown field":   `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x","colour":"red"}}}]}`,
		"wrong version":   `{"version":"2.0.0","runs":[]}`,
		"rule without id": `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x","rules":[{"name":"r"}]}}}]}`,
	} {
		if err := validate(t, sch, []byte(doc)); err == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
}

// TestSARIFFromMotoMatchesSchema runs every check on moto (with a public
// bucket, so there are failures) and validates the SARIF it writes.
func TestSARIFFromMotoMatchesSchema(t *testing.T) {
	a := startAccount(t)
	noErr(t)(a.clients.S3("us-east-1").CreateBucket(a.ctx, &s3.CreateBucketInput{Bucket: str("open"), ACL: types.BucketCannedACLPublicRead}))
	var out bytes.Buffer
	rep, err := Run(a.ctx, Options{Regions: []string{"us-east-1"}, Clients: a.clients})
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(&out, rep, "sarif", WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if code, err := rep.ExitCode(), rep.Err(); code != ExitHighFailed || err == nil {
		t.Errorf("exit: got %d (%v), want 1: the public bucket is a high failure", code, err)
	}
	if err := validate(t, loadSARIFSchema(t), out.Bytes()); err != nil {
		t.Fatalf("SARIF does not match the schema: %v", err)
	}
	var log sarifLog
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	reg := NewRegistry()
	Register(reg)
	if got := len(log.Runs[0].Tool.Driver.Rules); got != len(reg.IDs()) {
		t.Errorf("rules: got %d, want one per check (%d)", got, len(reg.IDs()))
	}
}
