package assess

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestSelect(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	Register(reg)
	tests := []struct {
		name          string
		include, skip []string
		want          []string // nil: check only the error
		err           bool
	}{
		{name: "one id", include: []string{"s3.bucket.versioning"}, want: []string{"s3.bucket.versioning"}},
		{name: "glob", include: []string{"cloudtrail.*"}, want: []string{"cloudtrail.log-validation", "cloudtrail.logging", "cloudtrail.multi-region"}},
		{name: "glob minus id", include: []string{"iam.root.*"}, skip: []string{"iam.root.mfa"}, want: []string{"iam.root.access-keys"}},
		{name: "two patterns", include: []string{"ebs.*", "guardduty.enabled"}, want: []string{"ebs.default-encryption", "guardduty.enabled"}},
		{name: "typo", include: []string{"s3.bucket.versoning"}, err: true},
		{name: "skip typo", skip: []string{"nothing.*"}, err: true},
		{name: "malformed glob", include: []string{"s3.["}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reg.Select(tt.include, tt.skip)
			if tt.err {
				if !errors.Is(err, ErrNoMatch) {
					t.Fatalf("got %v, want an error wrapping ErrNoMatch", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}
	all, _ := reg.Select(nil, nil)
	if len(all) < 20 {
		t.Errorf("every check: got %d, want at least the 20 checks assess promises", len(all))
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]Options{
		"checks typo":    {Checks: []string{"s3.nope"}, Regions: []string{"us-east-1"}, Env: &Env{}},
		"skip malformed": {Skip: []string{"["}, Regions: []string{"us-east-1"}, Env: &Env{}},
	} {
		rep, err := Run(context.Background(), o)
		if _, ok := errors.AsType[*UsageError](err); !ok || rep != nil {
			t.Errorf("%s: got %v, %v; want no report and a *UsageError", name, rep, err)
		}
	}
}

func TestTableGroupsAndColours(t *testing.T) {
	t.Parallel()
	var plain, col bytes.Buffer
	if err := Write(&plain, mixedReport(), "table", WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&col, mixedReport(), "table", WriteOptions{Color: true, All: true}); err != nil {
		t.Fatal(err)
	}
	p := plain.String()
	if strings.Contains(p, "\x1b[") {
		t.Errorf("plain table has escape codes:\n%s", p)
	}
	iam, s3 := strings.Index(p, "IAM\n"), strings.Index(p, "S3\n")
	if iam < 0 || s3 < 0 || iam > s3 {
		t.Errorf("want an IAM then an S3 section:\n%s", p)
	}
	for _, w := range []string{"FAIL ", "ERROR", "aws s3api put-bucket-acl --bucket a --acl private", "  1 passed (--all lists them)\n", "2 fail (1 high), 1 error (1 high could not run)"} {
		if !strings.Contains(p, w) {
			t.Errorf("table lacks %q:\n%s", w, p)
		}
	}
	if strings.Contains(p, "PASS ") {
		t.Errorf("a pass is listed without --all:\n%s", p)
	}
	if !strings.Contains(col.String(), ansiRed+"FAIL ") || !strings.Contains(col.String(), ansiGreen+"PASS ") {
		t.Errorf("coloured table lacks red FAIL / green PASS:\n%q", col.String())
	}
}

// TestTableGroupsAcrossRegions: a check failing the same way in three
// regions is one row naming them, with one fix (a loop over the regions);
// its pass elsewhere is counted, and listed with --all.
func TestTableGroupsAcrossRegions(t *testing.T) {
	t.Parallel()
	checks := []*Check{{ID: "guardduty.enabled", Family: "guardduty", Title: "GuardDuty on", Severity: High, Scope: Regional, Description: "d"}}
	var rs []Result
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		rs = append(rs, Result{CheckID: "guardduty.enabled", Family: "guardduty", Severity: High, Resource: "guardduty", Region: region, Status: Fail,
			Reason: "no GuardDuty detector in this region", Remediation: "aws guardduty create-detector --enable --region " + region})
	}
	rs = append(rs, Result{CheckID: "guardduty.enabled", Family: "guardduty", Severity: High, Resource: "detector/d1", Region: "us-west-2", Status: Pass, Reason: "on"},
		Result{CheckID: "guardduty.enabled", Family: "guardduty", Severity: High, Resource: "detector/d2", Region: "sa-east-1", Status: Fail,
			Reason: "detector d2 is DISABLED", Remediation: "aws guardduty update-detector --detector-id d2 --enable --region sa-east-1"})
	rep := newReport(checks, []string{"ap-south-1", "eu-west-1", "sa-east-1", "us-east-1", "us-west-2"}, rs)
	var buf bytes.Buffer
	if err := Write(&buf, rep, "table", WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `GUARDDUTY
STATUS  SEVERITY  CHECK              REGION                          RESOURCE     REASON
FAIL    high      guardduty.enabled  ap-south-1,eu-west-1,us-east-1  guardduty    no GuardDuty detector in this region
FAIL    high      guardduty.enabled  sa-east-1                       detector/d2  detector d2 is DISABLED
  to fix:
  - guardduty.enabled:
      for region in ap-south-1 eu-west-1 us-east-1; do aws guardduty create-detector --enable --region "$region"; done
      aws guardduty update-detector --detector-id d2 --enable --region sa-east-1
  1 passed (--all lists them)

1 pass, 4 fail (4 high), 0 error (0 high could not run) in ap-south-1, eu-west-1, sa-east-1, us-east-1, us-west-2
`
	if buf.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", buf.String(), want)
	}
	buf.Reset()
	if err := Write(&buf, rep, "table", WriteOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "PASS    high      guardduty.enabled  us-west-2") || strings.Contains(buf.String(), "--all lists") {
		t.Errorf("with All, the pass is listed:\n%s", buf.String())
	}
}

// TestJSONOnMoto: versioning on passes and off fails in the JSON document,
// whose fields are the documented ones; a medium failure alone exits 0.
func TestJSONOnMoto(t *testing.T) {
	a := startAccount(t)
	api := a.clients.S3("us-east-1")
	noErr(t)(api.CreateBucket(a.ctx, &s3.CreateBucketInput{Bucket: str("plain")}))
	var out bytes.Buffer
	got, err := Run(a.ctx, Options{Regions: []string{"us-east-1"}, Checks: []string{"s3.bucket.versioning"}, Clients: a.clients})
	if err != nil || got.ExitCode() != ExitOK || got.Err() != nil {
		t.Fatalf("got %v, want exit 0: only a medium check failed", err)
	}
	if err := Write(&out, got, "json", WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "regions", "summary", "checks", "results"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out.String())
		}
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != ReportSchema || len(rep.Results) != 1 || rep.Results[0].Status != Fail || rep.Results[0].Resource != "arn:aws:s3:::plain" ||
		rep.Results[0].Region != "us-east-1" || rep.Summary.Fail != 1 {
		t.Errorf("got %+v, want one versioning fail on plain", rep)
	}
}

func TestSplitList(t *testing.T) {
	t.Parallel()
	got := SplitList([]string{"us-east-1, eu-west-1", "", "us-east-1,ap-south-1,"})
	if want := []string{"us-east-1", "eu-west-1", "ap-south-1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
