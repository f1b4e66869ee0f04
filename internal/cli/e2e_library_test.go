package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestLibraryPlaybooksFromFindings drives each playbook the library was
// extended with through the binary, from its family's finding, against
// the world the finding names on moto: the run succeeds, what it changed
// is read back through the SDK, the finding and the recorded state are in
// the case, and the case verifies.
func TestLibraryPlaybooksFromFindings(t *testing.T) {
	s, m := awsSandbox(t)
	ctx := testenv.Context(t)
	lib, err := awsfixture.BuildLibrary(ctx, m.Config())
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	revoked := func(t *testing.T, role string) {
		t.Helper()
		out, err := iam.NewFromConfig(cfg).ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
		if err != nil || !slices.Contains(out.PolicyNames, "firebreak-revoke-older-sessions") {
			t.Errorf("role %s: policies %v (%v), want the revocation", role, out, err)
		}
	}
	tests := []struct {
		playbook, finding string
		args              []string
		artifacts         []string // steps/names the case must hold
		check             func(t *testing.T)
	}{
		{"s3-compromise", "guardduty-s3-exfiltration.json", []string{"-i", "log_bucket=" + lib.LogBucket},
			[]string{"collect/bucket-configuration.json", "collect/object-versions.jsonl", "contain/pre-containment-state.json"}, func(t *testing.T) {
				api := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
				b := aws.String(lib.Bucket)
				pab, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
				if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicPolicy) {
					t.Errorf("public access block: %+v (%v)", pab, err)
				}
				pol, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
				if err != nil || !strings.Contains(aws.ToString(pol.Policy), "PartnerRead") || !strings.Contains(aws.ToString(pol.Policy), "role/etl-role") {
					t.Errorf("policy: %s (%v), want the own statement and the deny of etl-role", aws.ToString(pol.Policy), err)
				}
				v, _ := api.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
				lg, _ := api.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: b})
				if v == nil || v.Status != "Enabled" || lg == nil || lg.LoggingEnabled == nil || aws.ToString(lg.LoggingEnabled.TargetBucket) != lib.LogBucket {
					t.Errorf("versioning %+v, logging %+v", v, lg)
				}
			}},
		{"trail-tampering", "guardduty-cloudtrail-disabled.json", nil, []string{"restore/pre-restore-state.json", "restore/trail-events.json"}, func(t *testing.T) {
			ct := cloudtrail.NewFromConfig(cfg)
			st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(lib.Trail)})
			d, _ := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
			if err != nil || !aws.ToBool(st.IsLogging) || d == nil || !aws.ToBool(d.TrailList[0].IsMultiRegionTrail) || !aws.ToBool(d.TrailList[0].LogFileValidationEnabled) {
				t.Errorf("trail: status %+v (%v), %+v", st, err, d)
			}
			revoked(t, lib.TrailActorRole)
		}},
		{"role-compromise", "guardduty-role-discovery.json", nil, nil, func(t *testing.T) { revoked(t, lib.StolenRole) }},
		{"lambda-compromise", "guardduty-lambda-c2.json", nil, []string{"contain/pre-containment-state.json"}, func(t *testing.T) {
			api := lambda.NewFromConfig(cfg)
			c, err := api.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(lib.Function)})
			u, uerr := api.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(lib.Function)})
			if err != nil || uerr != nil || aws.ToInt32(c.ReservedConcurrentExecutions) != 0 || c.ReservedConcurrentExecutions == nil || u.AuthType != lambdatypes.FunctionUrlAuthTypeAwsIam {
				t.Errorf("function: concurrency %+v (%v), URL %+v (%v)", c, err, u, uerr)
			}
			revoked(t, lib.FunctionRole)
		}},
		{"rds-compromise", "guardduty-rds-bruteforce.json", nil, []string{"contain/pre-containment-state.json"}, func(t *testing.T) {
			out, err := rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(lib.DBInstance)})
			if err != nil || aws.ToBool(out.DBInstances[0].PubliclyAccessible) || len(out.DBInstances[0].VpcSecurityGroups) != 1 ||
				slices.Contains(lib.DBGroups, aws.ToString(out.DBInstances[0].VpcSecurityGroups[0].VpcSecurityGroupId)) {
				t.Errorf("instance: %+v (%v), want private in the isolation group alone", out, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.playbook, func(t *testing.T) {
			finding, _ := filepath.Abs(filepath.Join("testdata", "findings", tt.finding))
			r := s.run(append([]string{"run", "--finding", finding, tt.playbook}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("run: exit %d\n%s", r.code, r)
			}
			tt.check(t)
			mpath := r.manifestPath(t)
			man := readManifest(t, mpath)
			var ids []string
			for _, a := range man.Artifacts {
				ids = append(ids, strings.TrimPrefix(a.ID, "artifacts/"))
			}
			for _, want := range append([]string{"finding/finding.json"}, tt.artifacts...) {
				if !slices.Contains(ids, want) {
					t.Errorf("case artifacts %v lack %s", ids, want)
				}
			}
			s.run("verify", mpath).want(t, 0)
			custody, err := os.ReadFile(filepath.Join(filepath.Dir(mpath), "custody.jsonl"))
			if err != nil || !strings.Contains(string(custody), `"aws-change"`) {
				t.Errorf("custody log: no aws-change recorded (%v)", err)
			}
		})
	}
}

// TestLibraryReleasePlaybooks: after s3-compromise, lambda-compromise and
// rds-compromise, their release playbooks (through the binary, approved
// with --yes) put the bucket, the function (its grants from the recorded
// state, given as the playbook says) and the database back as the world
// was built; each release's case verifies.
func TestLibraryReleasePlaybooks(t *testing.T) {
	s, m := awsSandbox(t)
	ctx := testenv.Context(t)
	lib, err := awsfixture.BuildLibrary(ctx, m.Config())
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	finding := func(name string) string {
		f, _ := filepath.Abs(filepath.Join("testdata", "findings", name))
		return f
	}
	// Contain all three, then release each: what the SDK reads back is
	// what the world was built as.
	s.run("run", "--finding", finding("guardduty-s3-exfiltration.json"), "s3-compromise", "-i", "log_bucket="+lib.LogBucket).want(t, 0)
	s.run("run", "--finding", finding("guardduty-lambda-c2.json"), "lambda-compromise").want(t, 0)
	s.run("run", "--finding", finding("guardduty-rds-bruteforce.json"), "rds-compromise").want(t, 0)
	t.Run("s3-release", func(t *testing.T) {
		r := s.run("run", "s3-release", "-i", "bucket="+lib.Bucket, "--yes").want(t, 0)
		api := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		pol, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(lib.Bucket)})
		if err != nil || strings.Contains(aws.ToString(pol.Policy), "FirebreakContain") || !strings.Contains(aws.ToString(pol.Policy), "PartnerRead") {
			t.Errorf("policy: %s (%v), want the bucket's own alone", aws.ToString(pol.Policy), err)
		}
		if _, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(lib.Bucket)}); err == nil {
			t.Errorf("public access block: still there, want none as before")
		}
		contains(t, "summary", r.stderr+r.stdout, "release")
		s.run("verify", r.manifestPath(t)).want(t, 0)
	})
	t.Run("lambda-release", func(t *testing.T) {
		// The removed grants come back from contain-function's recorded
		// state, as the playbook's description says to give it.
		states, _ := filepath.Glob(filepath.Join(s.dir, "evidence", "*", "artifacts", "contain", "pre-containment-state.json"))
		var prev map[string]any
		for _, p := range states {
			data, _ := os.ReadFile(p)
			var rec struct{ State map[string]any }
			if json.Unmarshal(data, &rec) == nil && rec.State["function_arn"] == lib.FunctionARN {
				prev = rec.State
			}
		}
		if prev == nil {
			t.Fatalf("no pre-containment-state.json of the function among %v", states)
		}
		in, _ := json.Marshal(map[string]any{"function": lib.Function, "previous_state": prev})
		file := filepath.Join(s.dir, "release-inputs.json")
		if err := os.WriteFile(file, in, 0o600); err != nil {
			t.Fatal(err)
		}
		r := s.run("run", "lambda-release", "--inputs-file", file, "--yes").want(t, 0)
		api := lambda.NewFromConfig(cfg)
		c, _ := api.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(lib.Function)})
		u, _ := api.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(lib.Function)})
		pol, _ := api.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(lib.Function)})
		if c == nil || aws.ToInt32(c.ReservedConcurrentExecutions) != 5 || u == nil || u.AuthType != lambdatypes.FunctionUrlAuthTypeNone ||
			pol == nil || !strings.Contains(aws.ToString(pol.Policy), "999988887777") || !strings.Contains(aws.ToString(pol.Policy), "FunctionURLAllowPublicAccess") {
			t.Errorf("function after release: concurrency %+v, URL %+v, policy %v; want 5, NONE, both grants back", c, u, pol)
		}
		s.run("verify", r.manifestPath(t)).want(t, 0)
	})
	t.Run("rds-release", func(t *testing.T) {
		r := s.run("run", "rds-release", "-i", "db_instance_id="+lib.DBInstance, "--yes").want(t, 0)
		out, err := rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(lib.DBInstance)})
		var groups []string
		for _, g := range out.DBInstances[0].VpcSecurityGroups {
			groups = append(groups, aws.ToString(g.VpcSecurityGroupId))
		}
		if err != nil || !aws.ToBool(out.DBInstances[0].PubliclyAccessible) || !slices.Equal(groups, lib.DBGroups) {
			t.Errorf("instance after release: public %v groups %v (%v), want public in %v", aws.ToBool(out.DBInstances[0].PubliclyAccessible), groups, err, lib.DBGroups)
		}
		s.run("verify", r.manifestPath(t)).want(t, 0)
	})
}
