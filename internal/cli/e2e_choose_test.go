package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// findingOfType writes the C&C fixture with its type changed, for a type
// no built-in playbook (or one only a sandbox playbook) answers.
func findingOfType(t *testing.T, s *sandbox, typ string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "findings", "guardduty-backdoor-c2.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(s.dir, strings.NewReplacer(":", "_", "/", "_").Replace(typ)+".json")
	writeFile(t, out, []byte(strings.ReplaceAll(string(data), "Backdoor:EC2/C&CActivity.B", typ)))
	return out
}

// TestRunChoosesThePlaybookFromTheFinding: run --finding without a name
// runs the one playbook that answers it; several or none is exit 2 with
// the choice laid out; a playbook given a finding it does not answer says
// so and names those that do, unless --force.
func TestRunChoosesThePlaybookFromTheFinding(t *testing.T) {
	s := newSandbox(t)
	backdoor, _ := filepath.Abs(filepath.Join("testdata", "findings", "guardduty-backdoor-c2.json"))

	behavior := findingOfType(t, s, "Behavior:EC2/NetworkPortUnusual")
	r := s.run("run", "--finding", behavior).want(t, 0)
	contains(t, "one answers", r.stderr, "finding Behavior:EC2/NetworkPortUnusual answered by playbook behavior", "run run-", ": succeeded")

	r = s.run("run", "--finding", backdoor).want(t, 2)
	contains(t, "several answer", r.stderr,
		"firebreak: finding Backdoor:EC2/C&CActivity.B is answered by 2 playbooks: from-finding, host-compromise; name the one to run: firebreak run NAME --finding FILE")

	recon := findingOfType(t, s, "Recon:EC2/PortProbeUnprotectedPort")
	r = s.run("run", "--finding", recon).want(t, 2)
	contains(t, "none answers", r.stderr, "firebreak: no playbook answers finding Recon:EC2/PortProbeUnprotectedPort\n",
		"the playbooks and the finding types they take:\n", "  host-compromise: Backdoor:EC2/*", "  behavior: Behavior:EC2/*",
		"firebreak run NAME --finding FILE --force")

	before, _ := os.ReadDir(filepath.Join(s.state, "runs"))
	r = s.run("run", "behavior", "--finding", backdoor).want(t, 2)
	want := "firebreak: playbook behavior does not answer finding Backdoor:EC2/C&CActivity.B (its findings: Behavior:EC2/*); those that do: from-finding, host-compromise. Run one of them, or give --force to run behavior anyway\n"
	if r.stderr != want {
		t.Errorf("a playbook given a finding it does not answer:\n got  %q\n want %q", r.stderr, want)
	}
	if after, _ := os.ReadDir(filepath.Join(s.state, "runs")); len(after) != len(before) {
		t.Errorf("a refused run made a run dir")
	}
	r = s.run("run", "behavior", "--finding", backdoor, "--force").want(t, 0)
	contains(t, "--force", r.stderr, "running it anyway (--force)")
	s.run("run", "local-check", "--finding", backdoor).want(t, 0) // it declares no finding types: it takes any
	s.run("run").want(t, 2)
}

// TestRunFromSNSDelivery: a finding as SNS delivers it (the notification,
// a Lambda's event) runs as the finding itself does, and the case keeps
// the delivery as it came.
func TestRunFromSNSDelivery(t *testing.T) {
	s := newSandbox(t)
	for _, file := range []string{"sns-notification-backdoor-c2.json", "lambda-sns-backdoor-c2.json"} {
		t.Run(file, func(t *testing.T) {
			f, _ := filepath.Abs(filepath.Join("testdata", "findings", file))
			r := s.run("--log-level", "debug", "run", "from-finding", "--finding", f).want(t, 0)
			contains(t, "run", r.stderr, "i-0a1b2c3d4e5f67890 HIGH Backdoor:EC2/C&CActivity.B")
			stored, err := os.ReadFile(filepath.Join(filepath.Dir(r.manifestPath(t)), "artifacts", "finding", "finding.json"))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(f)
			if string(stored) != string(raw) {
				t.Errorf("the case's finding is not the delivery as given")
			}
		})
	}
}
