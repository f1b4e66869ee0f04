package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestIAMPolicyGolden: the policy of host-compromise, without and with an
// S3 evidence store, is the reviewed one in testdata/iam-policy.
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
// "*", and PassRole is only to EC2. (capture-memory's s3 calls stay on "*":
// its sinks are parameters, any bucket.)
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
			risky := a == "iam:PassRole" || slices.Contains(inlinePolicyWrites, a)
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
	doc := iamPolicy("host-compromise", []string{"ec2:A", "iam:PassRole", "iam:PutRolePolicy", "iam:PutUserPolicy"}, []string{"isolate", "revoke-sessions"}, nil)
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
	if got := iamPolicy("x", nil, nil, nil); len(got.Statement) != 0 {
		t.Errorf("no permissions: got %+v, want no statement", got)
	}
	for _, tt := range []struct {
		writers []string
		want    string
	}{
		{[]string{"isolate", "disable-key"}, "FirebreakInlinePolicyWritesToRevokeSessions"},
		{[]string{"create-workstation"}, "FirebreakInlinePolicyWritesToLetWorkstationReadEvidence"},
		{[]string{"isolate", "create-workstation", "my-action"}, "FirebreakInlinePolicyWritesToRevokeSessionsAndLetWorkstationReadEvidenceAndMyAction"},
	} {
		if got := writesSid(tt.writers); got != tt.want {
			t.Errorf("writesSid(%q): got %q, want %q", tt.writers, got, tt.want)
		}
	}
}

func TestIAMPolicyEvidenceNotS3(t *testing.T) {
	var out, errb bytes.Buffer
	code := execute(t.Context(), []string{"firebreak", "iam-policy", "host-compromise", "--evidence", "./evidence"}, nil, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), `--evidence: evidence location "./evidence" is not an S3 URI`) {
		t.Errorf("got exit %d, stderr %q; want 2 and the location named", code, errb.String())
	}
}
