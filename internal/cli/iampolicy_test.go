package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
	"github.com/firebreak-ir/firebreak/playbooks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestIAMPolicyGolden: the policy of host-compromise, without and with an
// S3 evidence store, and of each built-in playbook for S3, CloudTrail,
// roles, Lambda and RDS, is the reviewed one in testdata/iam-policy.
func TestIAMPolicyGolden(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"host-compromise", []string{"iam-policy", "host-compromise"}, "host-compromise.json"},
		{"with evidence", []string{"iam-policy", "host-compromise", "--evidence", "s3://ir-evidence/cases"}, "host-compromise-evidence.json"},
		{"create-workstation", []string{"iam-policy", "create-workstation"}, "create-workstation.json"},
		{"evidence bucket root", []string{"iam-policy", "--evidence", "s3://ir-evidence", "local-triage"}, "local-triage-evidence.json"},
		{"s3-compromise", []string{"iam-policy", "s3-compromise"}, "s3-compromise.json"},
		{"trail-tampering", []string{"iam-policy", "trail-tampering"}, "trail-tampering.json"},
		{"role-compromise", []string{"iam-policy", "role-compromise"}, "role-compromise.json"},
		{"lambda-compromise", []string{"iam-policy", "lambda-compromise"}, "lambda-compromise.json"},
		{"rds-compromise", []string{"iam-policy", "rds-compromise"}, "rds-compromise.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := execute(t.Context(), append([]string{"firebreak"}, tt.args...), nil, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			checkPolicy(t, out.Bytes())
			path := filepath.Join("testdata", "iam-policy", tt.golden)
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("got\n%s\nwant (%s; if the change is intended: go test ./cmd/firebreak -run TestIAMPolicyGolden -update)\n%s", out.String(), path, want)
			}
		})
	}
}

// checkPolicy: the policy is JSON, every statement has Effect, Action and
// Resource, no statement grants iam:PassRole or an inline-policy write on
// "*", and PassRole is only to EC2.
func checkPolicy(t *testing.T, data []byte) {
	t.Helper()
	var doc struct {
		Version   string
		Statement []struct {
			Sid       string
			Effect    string
			Action    []string
			Resource  any
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	if doc.Version != "2012-10-17" || len(doc.Statement) == 0 {
		t.Fatalf("got version %q and %d statement(s), want 2012-10-17 and some", doc.Version, len(doc.Statement))
	}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || len(s.Action) == 0 || s.Resource == nil || s.Resource == "" {
			t.Errorf("statement %q: got effect %q, actions %q, resource %v; want all set", s.Sid, s.Effect, s.Action, s.Resource)
		}
		if !slices.IsSorted(s.Action) {
			t.Errorf("statement %q: actions not sorted: %q", s.Sid, s.Action)
		}
		for _, a := range s.Action {
			risky := slices.Contains(awsperm.Escalating, a)
			if risky && s.Resource == "*" {
				t.Errorf("statement %q grants %s on \"*\"", s.Sid, a)
			}
			if a == "iam:PassRole" && s.Condition["StringEquals"]["iam:PassedToService"] != "ec2.amazonaws.com" {
				t.Errorf("statement %q: iam:PassRole with condition %v, want iam:PassedToService ec2.amazonaws.com", s.Sid, s.Condition)
			}
		}
	}
}

func TestIAMPolicyDocument(t *testing.T) {
	writes := awsperm.InlinePolicyWrites("RevokeSessions", "iam:PutUserPolicy", "iam:PutRolePolicy")
	needs := policyNeeds{all: []string{"ec2:A", "iam:PassRole", "iam:PutRolePolicy", "iam:PutUserPolicy"}, plain: []string{"ec2:A"},
		grants: []engine.Grant{awsperm.PassOwnRolesToEC2, writes, awsperm.PassOwnRolesToEC2}}
	doc := iamPolicy("host-compromise", needs, nil)
	want := policyDocument{Version: "2012-10-17", Statement: []policyStatement{
		{Sid: "FirebreakHostCompromise", Effect: "Allow", Action: []string{"ec2:A"}, Resource: "*"},
		{Sid: "FirebreakInlinePolicyWritesToRevokeSessions", Effect: "Allow", Action: []string{"iam:PutRolePolicy", "iam:PutUserPolicy"},
			Resource: []string{"arn:aws:iam::*:role/*", "arn:aws:iam::*:user/*"}},
		{Sid: "FirebreakPassOwnRolesToEC2", Effect: "Allow", Action: []string{"iam:PassRole"}, Resource: "arn:aws:iam::*:role/firebreak-*",
			Condition: map[string]map[string]string{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
		{Sid: "FirebreakPlanCheckSimulatesOwnPolicies", Effect: "Allow", Action: []string{"iam:SimulatePrincipalPolicy"},
			Resource: []string{"arn:aws:iam::*:role/*", "arn:aws:iam::*:user/${aws:username}"}},
	}}
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("got %+v, want %+v", doc, want)
	}
	if got := iamPolicy("x", policyNeeds{}, nil); len(got.Statement) != 0 {
		t.Errorf("no permissions: got %+v, want no statement", got)
	}
	for _, tt := range []struct {
		reasons []string
		want    string
	}{
		{[]string{"RevokeSessions", "RevokeSessions"}, "FirebreakInlinePolicyWritesToRevokeSessions"},
		{[]string{"LetWorkstationReadEvidence"}, "FirebreakInlinePolicyWritesToLetWorkstationReadEvidence"},
		{[]string{"RevokeSessions", "LetWorkstationReadEvidence", "MyAction"}, "FirebreakInlinePolicyWritesToRevokeSessionsAndLetWorkstationReadEvidenceAndMyAction"},
		{[]string{""}, "FirebreakInlinePolicyWrites"},
	} {
		var grants []engine.Grant
		for _, r := range tt.reasons {
			grants = append(grants, awsperm.InlinePolicyWrites(r, "iam:PutRolePolicy"))
		}
		if got := grantStatements(grants); len(got) != 1 || got[0].Sid != tt.want {
			t.Errorf("reasons %q: got %+v, want one statement %q", tt.reasons, got, tt.want)
		}
	}
}

// permAction is an action with only a spec, for playbookNeeds.
type permAction struct{ spec engine.ActionSpec }

func (a permAction) Spec() engine.ActionSpec                                      { return a.spec }
func (permAction) Run(context.Context, *engine.StepInput) (engine.Outputs, error) { return nil, nil }

// TestPlaybookNeedsUngrantedGoesOnStar: a permission one action narrows
// with a grant and another needs without one goes on "*" too (the second
// action would fail otherwise); the grant still has its statement.
func TestPlaybookNeedsUngrantedGoesOnStar(t *testing.T) {
	reg := engine.NewRegistry()
	reg.Register(permAction{engine.ActionSpec{Name: "narrow", Permissions: []string{"iam:PutRolePolicy", "ec2:B"},
		Grants: []engine.Grant{awsperm.InlinePolicyWrites("RevokeSessions", "iam:PutRolePolicy")}}})
	reg.Register(permAction{engine.ActionSpec{Name: "wide", Permissions: []string{"iam:PutRolePolicy", "ec2:A"}}})
	pb := &engine.Playbook{Name: "p", Steps: []*engine.Step{{ID: "a", Action: "narrow"}, {ID: "b", Action: "wide"}}}
	got := playbookNeeds(reg, pb, engine.IAMEvidence{})
	if want := []string{"ec2:A", "ec2:B", "iam:PutRolePolicy"}; !reflect.DeepEqual(got.plain, want) || !reflect.DeepEqual(got.all, want) {
		t.Errorf("plain %q, all %q; want both %q", got.plain, got.all, want)
	}
	pb.Steps = pb.Steps[:1]
	if got := playbookNeeds(reg, pb, engine.IAMEvidence{}); !reflect.DeepEqual(got.plain, []string{"ec2:B"}) || len(got.grants) != 1 {
		t.Errorf("narrow alone: plain %q, %d grants; want [ec2:B] and one grant", got.plain, len(got.grants))
	}
}

// TestIAMPolicyNotes: a grant's note is told once, on stderr, whatever
// the number of actions that declare it (here three), and grants of one
// statement from several actions share it.
func TestIAMPolicyNotes(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "three.yaml")
	three := `name: three
version: 1.0.0
steps:
  - id: isolate
    action: isolate
    with: {instance_id: i-0123456789abcdef0}
  - id: release
    action: release
    needs: [isolate]
    with: {instance_id: i-0123456789abcdef0}
  - id: workstation
    action: create-workstation
    with: {ami_id: ami-1, examiner_cidr: 198.51.100.7/32}
`
	if err := os.WriteFile(pb, []byte(three), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := execute(t.Context(), []string{"firebreak", "iam-policy", pb}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	checkPolicy(t, out.Bytes())
	if !strings.Contains(out.String(), `"Sid": "FirebreakInlinePolicyWritesToRevokeSessionsAndLetWorkstationReadEvidence"`) {
		t.Errorf("want one inline-policy statement naming both reasons, got\n%s", out.String())
	}
	if n := strings.Count(errb.String(), awsperm.PassOwnRolesToEC2.Note); n != 1 {
		t.Errorf("stderr holds the PassRole note %d times, want once:\n%s", n, errb.String())
	}
}

func TestIAMPolicyEvidenceNotS3(t *testing.T) {
	var out, errb bytes.Buffer
	code := execute(t.Context(), []string{"firebreak", "iam-policy", "host-compromise", "--evidence", "./evidence"}, nil, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), `--evidence: evidence location "./evidence" is not an S3 URI`) {
		t.Errorf("got exit %d, stderr %q; want 2 and the location named", code, errb.String())
	}
}

// policyOf runs iam-policy and returns each statement's actions by
// resource (a list resource joined by " "), and stderr.
func policyOf(t *testing.T, args ...string) (map[string][]string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := execute(t.Context(), append([]string{"firebreak", "iam-policy"}, args...), nil, &out, &errb); code != 0 {
		t.Fatalf("iam-policy %q: exit %d: %s", args, code, errb.String())
	}
	checkPolicy(t, out.Bytes())
	var doc struct {
		Statement []struct {
			Action   []string
			Resource any
		}
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	by := map[string][]string{}
	for _, s := range doc.Statement {
		res, _ := s.Resource.(string)
		if list, ok := s.Resource.([]any); ok {
			for _, r := range list {
				res = strings.TrimSpace(res + " " + r.(string))
			}
		}
		by[res] = append(by[res], s.Action...)
	}
	return by, errb.String()
}

// holding lists the resources whose statements allow an action matching
// one of prefixes ("s3:" or a whole action).
func holding(by map[string][]string, prefixes ...string) []string {
	var out []string
	for res, acts := range by {
		if slices.ContainsFunc(acts, func(a string) bool {
			return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(a, p) })
		}) {
			out = append(out, res)
		}
	}
	slices.Sort(out)
	return out
}

// TestIAMPolicyAsNarrowAsWritten: with --evidence no S3 permission is on
// "*" (capture-memory's writes go under the sinks written, or under the
// evidence location when an expression decides them); a terminate step
// whose mode is stop as written gets no ec2:TerminateInstances; isolate
// with revoke_sessions: false writes no inline policy, revoke-sessions of a
// role named as written writes on that role only. The same steps with each
// value from an expression keep what the run may need, so the checks can
// fail.
func TestIAMPolicyAsNarrowAsWritten(t *testing.T) {
	written := filepath.Join("testdata", "iam-narrow", "written.yaml")
	decided := filepath.Join("testdata", "iam-narrow", "decided.yaml")

	by, _ := policyOf(t, written, "--evidence", "s3://ev/cases")
	if got := holding(by, "s3:"); !reflect.DeepEqual(got, []string{"arn:aws:s3:::ev", "arn:aws:s3:::ev/cases/*", "arn:aws:s3:::ev/cases/*/.lock", "arn:aws:s3:::mem-images/hosts/*"}) {
		t.Errorf("written: S3 permissions on %q, want the evidence location's and the literal sink's only", got)
	}
	if got := holding(by, "ec2:TerminateInstances"); len(got) != 0 {
		t.Errorf("written: mode: stop, yet ec2:TerminateInstances on %q", got)
	}
	if got := holding(by, "iam:PutRolePolicy", "iam:PutUserPolicy"); !reflect.DeepEqual(got, []string{"arn:aws:iam::*:role/app-role arn:aws:iam::*:role/*/app-role"}) {
		t.Errorf("written: inline-policy writes on %q, want role app-role only", got)
	}
	if acts := by["arn:aws:iam::*:role/app-role arn:aws:iam::*:role/*/app-role"]; !reflect.DeepEqual(acts, []string{"iam:PutRolePolicy"}) {
		t.Errorf("written: on role app-role %q, want iam:PutRolePolicy only", acts)
	}

	by, stderr := policyOf(t, decided, "--evidence", "s3://ev/cases")
	if got := holding(by, "s3:"); slices.Contains(got, "*") || !slices.Contains(got, "arn:aws:s3:::ev/cases/*") {
		t.Errorf("decided with --evidence: S3 permissions on %q, want none on \"*\", the sink's under the evidence location", got)
	}
	if !strings.Contains(stderr, "capture-memory's sinks are decided by an expression") {
		t.Errorf("decided with --evidence: no note on where the sinks are granted:\n%s", stderr)
	}
	if got := holding(by, "ec2:TerminateInstances"); !reflect.DeepEqual(got, []string{"*"}) {
		t.Errorf("decided: mode from an input, ec2:TerminateInstances on %q, want \"*\"", got)
	}
	if got := holding(by, "iam:PutRolePolicy", "iam:PutUserPolicy"); !reflect.DeepEqual(got, []string{"arn:aws:iam::*:role/* arn:aws:iam::*:user/*"}) {
		t.Errorf("decided: inline-policy writes on %q, want every role and user (the names come at run time)", got)
	}

	by, _ = policyOf(t, decided)
	if got := holding(by, "s3:"); !reflect.DeepEqual(got, []string{"*"}) {
		t.Errorf("decided without --evidence: S3 permissions on %q, want \"*\" (any sink)", got)
	}

	// Every built-in playbook: with --evidence, no S3 permission on "*".
	names, err := fs.Glob(playbooks.FS, "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("built-in playbooks: %v %q", err, names)
	}
	for _, file := range names {
		name := strings.TrimSuffix(file, ".yaml")
		by, _ := policyOf(t, name, "--evidence", "s3://ev/cases")
		if slices.Contains(holding(by, "s3:"), "*") {
			t.Errorf("%s --evidence: an S3 permission on \"*\": %q", name, by["*"])
		}
	}
}
