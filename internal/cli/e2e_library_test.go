package cli

import (
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
