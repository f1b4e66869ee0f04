package findings_test

import (
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/findings"
)

// TestCoverageOfTheBuiltins: every family's type is answered by a built-in
// playbook or says why not; the families the library was extended for
// are covered by their playbooks, whole.
func TestCoverageOfTheBuiltins(t *testing.T) {
	entries, err := builtins().List()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Lambda Protection": "lambda-compromise", "RDS Protection": "rds-compromise", "Malware Protection for EC2": "host-compromise",
		"Runtime Monitoring (on an instance)": "host-compromise",
	}
	for _, c := range findings.CoverageOf(entries) {
		for _, u := range c.Uncovered {
			if u.Why == "" {
				t.Errorf("%s: type %s has no playbook and no reason", c.Family, u.Type)
			}
		}
		if pb, ok := want[c.Family]; ok && (c.Covered != c.Types || len(c.Playbooks) != 1 || c.Playbooks[0].Name != pb) {
			t.Errorf("%s: got %+v, want all %d types by %s", c.Family, c, c.Types, pb)
		}
		switch c.Family {
		case "S3 Protection":
			if c.Covered != c.Types-1 || c.Uncovered[0].Type != "Policy:S3/AccountBlockPublicAccessDisabled" {
				t.Errorf("S3: got %+v, want all but the account-level type", c)
			}
		case "IAM (access keys of users and roles)":
			var names []string
			for _, p := range c.Playbooks {
				names = append(names, p.Name)
			}
			if got := strings.Join(names, ","); got != "key-compromise,role-compromise,trail-tampering,instance-credential-exfiltration" {
				t.Errorf("IAM playbooks: got %s", got)
			}
		case "EKS Protection (Kubernetes audit logs)":
			if c.Covered != 0 || !strings.Contains(c.Uncovered[0].Why, "Kubernetes API") {
				t.Errorf("EKS: got %+v, want none, for the Kubernetes API", c)
			}
		}
	}
}
