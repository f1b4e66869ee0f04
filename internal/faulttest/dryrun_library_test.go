package faulttest

import (
	"path/filepath"
	"testing"

	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestLibraryDryRunChangesNothing: for each playbook of the S3,
// CloudTrail, role, Lambda and RDS families, started from its finding,
// plan --check and run --dry-run read the live account (every new
// action's Plan reads what it would change) and make no mutating call:
// the recording proxy counts zero. (moto's dump of its whole state,
// which TestDryRunChangesNothing compares, needs Docker once a Lambda
// function exists, so the proxy's count is the proof here.)
func TestLibraryDryRunChangesNothing(t *testing.T) {
	e := newEnv(t, 1)
	if _, err := awsfixture.BuildLibrary(testenv.Context(t), e.direct); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, e.proxy.URL)
	for pb, finding := range map[string]string{
		"s3-compromise":     "guardduty-s3-exfiltration.json",
		"trail-tampering":   "guardduty-cloudtrail-disabled.json",
		"role-compromise":   "guardduty-role-discovery.json",
		"lambda-compromise": "guardduty-lambda-c2.json",
		"rds-compromise":    "guardduty-rds-bruteforce.json",
	} {
		f, _ := filepath.Abs(filepath.Join("testdata", "findings", finding))
		for _, args := range [][]string{
			{"plan", pb, "--finding", f, "--check"},
			{"run", pb, "--finding", f, "--dry-run", "--evidence", c.evidence},
		} {
			e.proxy.Reset()
			code, out := c.run(args...)
			if code != 0 && code != 1 { // 1: a problem the check found (moto cannot simulate permissions)
				t.Fatalf("firebreak %v: exit %d, want 0 or 1\n%s", args, code, out)
			}
			reads := 0
			for _, call := range e.proxy.Calls() {
				if call.Mutating && call.Forwarded && !call.DryRun {
					t.Errorf("firebreak %v made a mutating call: %s %s", args, call.Service, call.Operation)
				}
				if !call.Mutating && call.Service != "sts" {
					reads++
				}
			}
			if reads == 0 {
				t.Errorf("firebreak %v: no read of the resource; the check did not look at the account\n%s", args, out)
			}
		}
	}
}
