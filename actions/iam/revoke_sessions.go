package iam

import (
	"github.com/firebreak-ir/firebreak/internal/awsperm"
	"github.com/firebreak-ir/firebreak/internal/revoke"

	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// revokeSessions denies a role's or a user's sessions issued before now.
// Idempotent: a rerun replaces its one policy, with the later time.
type revokeSessions struct {
	iam    iamAPI
	caller func(ctx context.Context) (callerInfo, error)
	now    func() time.Time
}

var _ engine.Action = (*revokeSessions)(nil)

// revokeParams declare revoke-sessions' parameters.
type revokeParams struct {
	RoleName     string `param:"role_name" default:"" doc:"the role whose sessions to revoke (give one of role_name, user_name and principal_arn)"`
	UserName     string `param:"user_name" default:"" doc:"the IAM user whose temporary credentials to revoke"`
	PrincipalARN string `param:"principal_arn" default:"" doc:"an assumed role's session (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, as a finding or CloudTrail names it), a role or a user ARN: its role or user is revoked"`
	Force        bool   `param:"force" default:"false" doc:"revoke even when the run itself acts as this role or user (its own session stops working)"`
}

var revokeCalls = []string{"sts:GetCallerIdentity", "iam:GetRole", "iam:GetUser", "iam:PutRolePolicy", "iam:PutUserPolicy"}

func (*revokeSessions) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "revoke-sessions",
		Summary: "Record a role (its trust policy) or user, then deny every session of it issued before now (inline policy on aws:TokenIssueTime); new sessions are not affected",
		Params:  engine.ParamsOf[revokeParams](),
		Outputs: []engine.Output{
			{Name: "principal", Type: engine.TypeString, Doc: "role/NAME or user/NAME", Headline: true},
			{Name: "policy_name", Type: engine.TypeString},
			{Name: "token_issued_before", Type: engine.TypeString, Doc: "RFC 3339: sessions issued before this are denied", Headline: true},
		},
		Calls:       revokeCalls,
		Permissions: awsperm.ForCalls(revokeCalls),
		Grants:      []engine.Grant{awsperm.InlinePolicyWrites("RevokeSessions", "iam:PutRolePolicy", "iam:PutUserPolicy")},
		Mutating:    true,
	}
}

func (a *revokeSessions) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[revokeParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("revoke-sessions: %w (nothing was changed)", err)
	}
	role, user, err := p.principal()
	if err != nil {
		return nil, fmt.Errorf("revoke-sessions: %w (nothing was changed)", err)
	}
	if !p.Force {
		who, err := a.caller(ctx)
		if err != nil {
			return nil, fmt.Errorf("revoke-sessions: %w (nothing was changed; force: true skips this check)", err)
		}
		if who.isRole(role) || who.isUser(user) {
			return nil, fmt.Errorf("revoke-sessions: the run acts as %q, whose own session this would revoke: run as another principal, or set force: true", who.ARN)
		}
	}
	// The principal as it is, before the deny: which role (its trust
	// policy: who may assume it) or user, kept with the case.
	if err := recordPrincipal(ctx, a.iam, in, role, user); err != nil {
		return nil, fmt.Errorf("revoke-sessions: %w (nothing was changed)", err)
	}
	now := a.now()
	principal := "role/" + role
	if role != "" {
		err = revoke.Role(ctx, a.iam, in.Evidence, role, now)
	} else {
		principal = "user/" + user
		err = revoke.User(ctx, a.iam, in.Evidence, user, now)
	}
	if err != nil {
		return nil, fmt.Errorf("revoke-sessions: %w", err)
	}
	return engine.Outputs{"principal": principal, "policy_name": revoke.PolicyName, "token_issued_before": revoke.Time(now).Format(time.RFC3339)}, nil
}

// principal is the role or the user to revoke: exactly one of role_name,
// user_name and principal_arn must be given.
func (p revokeParams) principal() (role, user string, err error) {
	given := 0
	for _, v := range []string{p.RoleName, p.UserName, p.PrincipalARN} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return "", "", fmt.Errorf("give exactly one of role_name, user_name and principal_arn (got role_name %q, user_name %q, principal_arn %q)", p.RoleName, p.UserName, p.PrincipalARN)
	}
	if p.PrincipalARN == "" {
		return p.RoleName, p.UserName, nil
	}
	return principalOfARN(p.PrincipalARN)
}

// principalOfARN is the role or user an ARN names: an assumed role's
// session (arn:aws:sts::A:assumed-role/ROLE/SESSION) is its role; a role
// or user ARN under a path is its last segment.
func principalOfARN(arn string) (role, user string, err error) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" {
		return "", "", fmt.Errorf("principal_arn %q is not an ARN", arn)
	}
	kind, rest, _ := strings.Cut(f[5], "/")
	last := rest[strings.LastIndex(rest, "/")+1:]
	switch {
	case f[2] == "sts" && kind == "assumed-role":
		if r, _, ok := strings.Cut(rest, "/"); ok && r != "" {
			return r, "", nil
		}
	case f[2] == "iam" && kind == "role" && last != "":
		return last, "", nil
	case f[2] == "iam" && kind == "user" && last != "":
		return "", last, nil
	}
	return "", "", fmt.Errorf("principal_arn %q names no role or user (want an assumed-role session, a role or a user ARN)", arn)
}

// recordPrincipal stores the role or user as it is (GetRole, GetUser) as
// the artifact principal.json; a principal that does not exist is an
// error, before anything is changed.
func recordPrincipal(ctx context.Context, api iamAPI, in *engine.StepInput, role, user string) error {
	var rec any
	src := map[string]string{}
	if role != "" {
		out, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
		if err != nil {
			return fmt.Errorf("reading role %q: %w", role, awsapi.Classify(err))
		}
		r := out.Role
		trust, _ := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument))
		rec = map[string]any{"role": r, "trust_policy": trust}
		src["role_arn"] = aws.ToString(r.Arn)
	} else {
		out, err := api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
		if err != nil {
			return fmt.Errorf("reading user %q: %w", user, awsapi.Classify(err))
		}
		rec = map[string]any{"user": out.User}
		src["user_arn"] = aws.ToString(out.User.Arn)
	}
	_, err := awsapi.PutJSON(ctx, in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName("principal", ".json", in), Kind: "iam-principal", Source: src}, rec)
	return err
}

var _ engine.StepIAMer = (*revokeSessions)(nil)

// StepIAM: a step that names its role or user as written (role_name,
// user_name or principal_arn without an expression) writes an inline policy
// on that one only; otherwise on any role or user.
func (*revokeSessions) StepIAM(p engine.Params, _ engine.IAMEvidence) engine.StepIAM {
	for _, name := range []string{"role_name", "user_name", "principal_arn"} {
		if _, unknown := p[name].(engine.Unknown); unknown {
			return engine.StepIAM{}
		}
	}
	rp, err := engine.Decode[revokeParams](p)
	if err != nil {
		return engine.StepIAM{}
	}
	role, user, err := rp.principal()
	switch {
	case err != nil:
		return engine.StepIAM{}
	case role != "":
		return engine.StepIAM{Drop: []string{"iam:PutUserPolicy"},
			Grants: []engine.Grant{awsperm.InlinePolicyWritesOn("RevokeSessions", []string{role}, nil, "iam:PutRolePolicy")}}
	default:
		return engine.StepIAM{Drop: []string{"iam:PutRolePolicy"},
			Grants: []engine.Grant{awsperm.InlinePolicyWritesOn("RevokeSessions", nil, []string{user}, "iam:PutUserPolicy")}}
	}
}
