package iam

import (
	"reflect"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestRevokeSessionsStepIAM: a role or user named as written (role_name,
// user_name, principal_arn) narrows the inline-policy write to that one,
// under any path, and drops the other kind's write; a name an expression
// decides, or none valid, leaves the spec's grant (every role and user).
func TestRevokeSessionsStepIAM(t *testing.T) {
	t.Parallel()
	a := &revokeSessions{}
	tests := []struct {
		name     string
		params   engine.Params
		drop     []string
		resource []string // nil: the spec's grant stays
	}{
		{"role", engine.Params{"role_name": "app"}, []string{"iam:PutUserPolicy"},
			[]string{"arn:aws:iam::*:role/app", "arn:aws:iam::*:role/*/app"}},
		{"user", engine.Params{"user_name": "ci"}, []string{"iam:PutRolePolicy"},
			[]string{"arn:aws:iam::*:user/ci", "arn:aws:iam::*:user/*/ci"}},
		{"session arn", engine.Params{"principal_arn": "arn:aws:sts::123456789012:assumed-role/web/i-0abc"}, []string{"iam:PutUserPolicy"},
			[]string{"arn:aws:iam::*:role/web", "arn:aws:iam::*:role/*/web"}},
		{"user arn under a path", engine.Params{"principal_arn": "arn:aws:iam::123456789012:user/ops/ci"}, []string{"iam:PutRolePolicy"},
			[]string{"arn:aws:iam::*:user/ci", "arn:aws:iam::*:user/*/ci"}},
		{"role from an expression", engine.Params{"role_name": engine.Unknown{Expr: "inputs.role"}}, nil, nil},
		{"arn from an expression", engine.Params{"principal_arn": engine.Unknown{Expr: "finding.arn"}}, nil, nil},
		{"two named: the run refuses", engine.Params{"role_name": "a", "user_name": "b"}, nil, nil},
		{"none named", engine.Params{}, nil, nil},
	}
	for _, tt := range tests {
		got := a.StepIAM(tt.params, engine.IAMEvidence{})
		if !reflect.DeepEqual(got.Drop, tt.drop) {
			t.Errorf("%s: drop %q, want %q", tt.name, got.Drop, tt.drop)
		}
		if tt.resource == nil {
			if got.Grants != nil {
				t.Errorf("%s: grants %+v, want the spec's", tt.name, got.Grants)
			}
			continue
		}
		if len(got.Grants) != 1 || !reflect.DeepEqual(got.Grants[0].Resource, tt.resource) || got.Grants[0].Statement != "InlinePolicyWrites" {
			t.Errorf("%s: grants %+v, want one InlinePolicyWrites on %q", tt.name, got.Grants, tt.resource)
		}
	}
}
