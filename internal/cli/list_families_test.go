package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestListFindingFamilies: list --finding names, for each family's
// finding, the one built-in playbook that answers it; the IAM types a
// user's and a role's findings share go to key-compromise or
// role-compromise by the principal, the other named on stderr.
func TestListFindingFamilies(t *testing.T) {
	s := newSandbox(t)
	tests := []struct {
		file    string
		want    string
		misfits string // on stderr
	}{
		{"guardduty-s3-exfiltration.json", "s3-compromise", ""},
		{"securityhub-asff-s3-exfiltration.json", "s3-compromise", ""},
		{"guardduty-s3-bpa-disabled.json", "s3-compromise", ""},
		{"guardduty-cloudtrail-disabled.json", "trail-tampering", ""},
		{"securityhub-asff-cloudtrail-disabled.json", "trail-tampering", ""},
		{"guardduty-role-discovery.json", "role-compromise", "key-compromise matches Discovery:IAMUser/AnomalousBehavior but cannot take its inputs"},
		{"guardduty-iamuser-malicious-ip.json", "key-compromise", "role-compromise matches"},
		{"guardduty-lambda-c2.json", "lambda-compromise", ""},
		{"securityhub-asff-lambda-c2.json", "lambda-compromise", ""},
		{"guardduty-rds-bruteforce.json", "rds-compromise", ""},
		{"securityhub-asff-rds-bruteforce.json", "rds-compromise", ""},
		{"guardduty-ec2-malicious-file.json", "host-compromise", ""},
		{"guardduty-runtime-new-binary.json", "host-compromise", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, _ := filepath.Abs(filepath.Join("testdata", "findings", tt.file))
			r := s.run("list", "--finding", f, "--format", "json").want(t, 0)
			var entries []struct{ Name string }
			if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
				t.Fatalf("list --format json: %v\n%s", err, r.stdout)
			}
			var names []string
			for _, e := range entries {
				if e.Name != "from-finding" { // the sandbox's own instance playbook answers instance findings too
					names = append(names, e.Name)
				}
			}
			if !slices.Equal(names, []string{tt.want}) {
				t.Errorf("got %v, want [%s]", names, tt.want)
			}
			if tt.misfits != "" {
				contains(t, "stderr", r.stderr, tt.misfits)
			}
		})
	}
}

// TestListCoverage: list --coverage prints the families and their
// playbooks (table and JSON), and the README's table is exactly what
// --format markdown prints, so it cannot drift from the playbooks' globs.
func TestListCoverage(t *testing.T) {
	s := newSandbox(t)
	r := s.run("list", "--coverage").want(t, 0)
	contains(t, "table", r.stdout, "Lambda Protection", "lambda-compromise (7)", "rds-compromise (9)", "s3-compromise (19)",
		"*:Kubernetes/*", "Kubernetes API")
	r = s.run("list", "--coverage", "--format", "json").want(t, 0)
	var cov []struct {
		Family, Uncovered any
		Types, Covered    int
		Playbooks         []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &cov); err != nil || len(cov) < 8 {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	r = s.run("--playbooks", s.dir+"/none", "list", "--coverage", "--format", "markdown").want(t, 0)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), r.stdout) {
		t.Errorf("README.md lacks the coverage table `firebreak list --coverage --format markdown` prints (update the README):\n%s", r.stdout)
	}
	s.run("list", "--format", "markdown").want(t, 2)
	s.run("list", "--coverage", "--finding", "x.json").want(t, 2)
}
