package iam

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/revoke"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestRevokeSessionsTwiceLeavesOnePolicy: for a role and for a user, a
// second run replaces the policy with the later time.
func TestRevokeSessionsTwiceLeavesOnePolicy(t *testing.T) {
	w := newIAMWorld(t)
	ctx := testenv.Context(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := w.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web-role"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	w.newUser(t, ctx, "ci-deployer")
	first := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		param, name string
		list        func() ([]string, error)
		doc         func() (string, error)
	}{
		{"role_name", "web-role", func() ([]string, error) {
			out, err := w.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("web-role")})
			if err != nil {
				return nil, err
			}
			return out.PolicyNames, nil
		}, func() (string, error) {
			out, err := w.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("web-role"), PolicyName: aws.String(revoke.PolicyName)})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.PolicyDocument), nil
		}},
		{"user_name", "ci-deployer", func() ([]string, error) {
			out, err := w.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("ci-deployer")})
			if err != nil {
				return nil, err
			}
			return out.PolicyNames, nil
		}, func() (string, error) {
			out, err := w.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("ci-deployer"), PolicyName: aws.String(revoke.PolicyName)})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.PolicyDocument), nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			clock := first
			a := &revokeSessions{iam: w.iam, caller: asCaller("arn:aws:sts::123456789012:assumed-role/responder/alice"), now: func() time.Time { return clock }}
			for range 2 {
				if _, err := runAction(ctx, a, engine.Params{tt.param: tt.name}); err != nil {
					t.Fatal(err)
				}
				clock = clock.Add(time.Hour)
			}
			names, err := tt.list()
			if err != nil || !slices.Equal(names, []string{revoke.PolicyName}) {
				t.Errorf("policies after two runs: got %v (%v), want one %s", names, err, revoke.PolicyName)
			}
			doc, err := tt.doc()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := revokeTime(t, doc), first.Add(time.Hour); !got.Equal(want) {
				t.Errorf("aws:TokenIssueTime: got %v, want the second run's %v", got, want)
			}
		})
	}
}

func TestRevokeTimeRoundsUp(t *testing.T) {
	whole := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	tests := []struct{ at, want time.Time }{
		{whole, whole},
		{whole.Add(time.Nanosecond), whole.Add(time.Second)},
		{whole.Add(999 * time.Millisecond), whole.Add(time.Second)},
		{whole.In(time.FixedZone("X", 3600)), whole},
	}
	for _, tt := range tests {
		if got := revoke.Time(tt.at); !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("revoke.Time(%v): got %v, want %v in UTC", tt.at, got, tt.want)
		}
	}
}

func asCaller(arn string) func(context.Context) (callerInfo, error) {
	return func(context.Context) (callerInfo, error) { return callerInfo{ARN: arn}, nil }
}

func runAction(ctx context.Context, a engine.Action, params engine.Params) (engine.Outputs, error) {
	return a.Run(ctx, &engine.StepInput{RunID: "run-test", StepID: "revoke", Params: params, Attempt: 1, Evidence: enginetest.NewEvidence()})
}

// refusingIAM fails the test on any change: the refusals below must not
// reach IAM.
type refusingIAM struct {
	iamAPI
	t *testing.T
}

func (r refusingIAM) PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	r.t.Errorf("PutRolePolicy called")
	return &iam.PutRolePolicyOutput{}, nil
}

func (r refusingIAM) PutUserPolicy(context.Context, *iam.PutUserPolicyInput, ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error) {
	r.t.Errorf("PutUserPolicy called")
	return &iam.PutUserPolicyOutput{}, nil
}

func TestRevokeSessionsRefuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, caller string
		params       engine.Params
		want         string
	}{
		{"neither", "", engine.Params{"role_name": "", "user_name": ""}, "exactly one of role_name, user_name and principal_arn"},
		{"both", "", engine.Params{"role_name": "r", "user_name": "u"}, "exactly one of role_name, user_name and principal_arn"},
		{"own role", "arn:aws:sts::123456789012:assumed-role/responder/alice", engine.Params{"role_name": "responder"}, "whose own session"},
		{"own user", "arn:aws:iam::123456789012:user/ops/alice", engine.Params{"user_name": "alice"}, "whose own session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &revokeSessions{iam: refusingIAM{t: t}, caller: asCaller(tt.caller), now: time.Now}
			if _, err := runAction(ctx, a, tt.params); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestCallerIs(t *testing.T) {
	tests := []struct {
		arn, kind, name string
		want            bool
	}{
		{"arn:aws:iam::1:user/alice", "user", "alice", true},
		{"arn:aws:iam::1:user/ops/alice", "user", "alice", true},
		{"arn:aws:iam::1:user/alice2", "user", "alice", false},
		{"arn:aws:sts::1:assumed-role/web-role/i-0abc", "role", "web-role", true},
		{"arn:aws:sts::1:assumed-role/web-role/i-0abc", "user", "web-role", false},
		{"arn:aws:sts::1:assumed-role/web-role-2/x", "role", "web-role", false},
		{"arn:aws:iam::1:user/alice", "role", "alice", false},
		{"", "user", "", false},
		{"arn:aws:iam::1:user/", "user", "", false},
	}
	for _, tt := range tests {
		c := callerInfo{ARN: tt.arn}
		got := c.isUser(tt.name)
		if tt.kind == "role" {
			got = c.isRole(tt.name)
		}
		if got != tt.want {
			t.Errorf("%s is %s %q: got %v, want %v", tt.arn, tt.kind, tt.name, got, tt.want)
		}
	}
}

// TestRevokeSessionsPrincipalARN: a finding's or CloudTrail's
// assumed-role session names its role; role and user ARNs under a path
// name theirs; anything else, or two principals at once, is refused
// before anything changes.
func TestRevokeSessionsPrincipalARN(t *testing.T) {
	tests := []struct {
		p                revokeParams
		wantRole, wantUs string
		wantErr          string
	}{
		{revokeParams{PrincipalARN: "arn:aws:sts::123456789012:assumed-role/ci-deploy-role/build-7731"}, "ci-deploy-role", "", ""},
		{revokeParams{PrincipalARN: "arn:aws:iam::123456789012:role/service/ci-deploy-role"}, "ci-deploy-role", "", ""},
		{revokeParams{PrincipalARN: "arn:aws:iam::123456789012:user/dev/mallory"}, "", "mallory", ""},
		{revokeParams{RoleName: "r"}, "r", "", ""},
		{revokeParams{PrincipalARN: "arn:aws:iam::123456789012:root"}, "", "", "names no role or user"},
		{revokeParams{PrincipalARN: "ci-deploy-role"}, "", "", "is not an ARN"},
		{revokeParams{PrincipalARN: "arn:aws:sts::123456789012:assumed-role/"}, "", "", "names no role or user"},
		{revokeParams{RoleName: "r", PrincipalARN: "arn:aws:iam::1:role/r"}, "", "", "exactly one of"},
		{revokeParams{}, "", "", "exactly one of"},
	}
	for _, tt := range tests {
		role, user, err := tt.p.principal()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v: got %q %q %v, want an error containing %q", tt.p, role, user, err, tt.wantErr)
			}
			continue
		}
		if err != nil || role != tt.wantRole || user != tt.wantUs {
			t.Errorf("%+v: got role %q user %q %v, want %q %q", tt.p, role, user, err, tt.wantRole, tt.wantUs)
		}
	}
}

// TestRevokeSessionsOfAnAssumedRole: given a finding's assumed-role
// session, revoke-sessions puts the deny on its role (read back through
// IAM), and refuses when the run is a session of that role.
func TestRevokeSessionsOfAnAssumedRole(t *testing.T) {
	w := newIAMWorld(t)
	ctx := testenv.Context(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := w.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ci-deploy-role"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	session := "arn:aws:sts::123456789012:assumed-role/ci-deploy-role/build-7731"
	a := &revokeSessions{iam: w.iam, caller: asCaller("arn:aws:sts::123456789012:assumed-role/responder/alice"), now: time.Now}
	ev := enginetest.NewEvidence()
	out, err := a.Run(ctx, &engine.StepInput{RunID: "run-test", StepID: "revoke", Attempt: 1, Evidence: ev, Params: engine.Params{"principal_arn": session}})
	if err != nil || out["principal"] != "role/ci-deploy-role" {
		t.Fatalf("got %v, %v; want role/ci-deploy-role", out, err)
	}
	if rec, ok := ev.Object("principal.json"); !ok || !strings.Contains(string(rec), `"trust_policy": "{\"Version\"`) || !strings.Contains(string(rec), "role/ci-deploy-role") {
		t.Errorf("principal.json: got %s, want the role and its trust policy, decoded, before the change", rec)
	}
	if _, err := runAction(ctx, a, engine.Params{"role_name": "no-such-role"}); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("a role that does not exist: got %v, want an error before any change", err)
	}
	names, err := w.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("ci-deploy-role")})
	if err != nil || !slices.Equal(names.PolicyNames, []string{revoke.PolicyName}) {
		t.Errorf("role policies: got %v (%v), want %s", names, err, revoke.PolicyName)
	}
	own := &revokeSessions{iam: w.iam, caller: asCaller("arn:aws:sts::123456789012:assumed-role/ci-deploy-role/responder"), now: time.Now}
	if _, err := runAction(ctx, own, engine.Params{"principal_arn": session}); err == nil || !strings.Contains(err.Error(), "whose own session") {
		t.Errorf("the run's own role: got %v, want a refusal", err)
	}
}
