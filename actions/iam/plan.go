package iam

import (
	"github.com/firebreak-ir/firebreak/internal/revoke"

	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
)

var (
	_ engine.Planner = (*disableKey)(nil)
	_ engine.Planner = (*revokeSessions)(nil)
)

// Plan lists the calls disable-key would make. With Check it finds the
// key's user and says whether the run would refuse the key as its own,
// reading only.
func (a *disableKey) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	key := planValue(in.Params["access_key_id"])
	d := &engine.PlanDetail{Calls: []string{
		"iam:GetAccessKeyLastUsed " + key + " (its user; else iam:ListUsers + iam:ListAccessKeys)",
		"iam:UpdateAccessKey " + key + " Inactive (never deleted)",
		"iam:PutUserPolicy " + revoke.PolicyName + " on the key's user (deny sessions issued before now)",
	}}
	if in.Params.Bool("delete_login_profile") {
		d.Calls = append(d.Calls, "iam:DeleteLoginProfile the key's user")
	}
	d.Calls = append(d.Calls, "iam:ListMFADevices, iam:ListAttachedUserPolicies, iam:ListUserPolicies, iam:ListGroupsForUser (evidence)",
		"cloudtrail:LookupEvents AccessKeyId="+key+" over "+planValue(in.Params["lookback"]))
	k, known := in.Params["access_key_id"].(string)
	if !in.Check || !known || a.iam == nil {
		return d, nil
	}
	user, keys, err := findOwner(ctx, a.iam, k)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	d.Notes = append(d.Notes, fmt.Sprintf("access key %s belongs to user %s and is %s", k, user, keyStatus(keys, k)))
	if err := a.refuseOwn(ctx, k, user, in.Params.Bool("force")); err != nil {
		d.Problems = append(d.Problems, err.Error())
	}
	return d, nil
}

// Plan lists the one call revoke-sessions would make; with Check it says
// whether the run would refuse to revoke its own sessions.
func (a *revokeSessions) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	role, user := in.Params.String("role_name"), in.Params.String("user_name")
	call := "iam:PutUserPolicy " + revoke.PolicyName + " on user " + planValue(in.Params["user_name"])
	if role != "" || isUnknown(in.Params["role_name"]) {
		call = "iam:PutRolePolicy " + revoke.PolicyName + " on role " + planValue(in.Params["role_name"])
	}
	if arn := in.Params.String("principal_arn"); arn != "" || isUnknown(in.Params["principal_arn"]) {
		call = "iam:PutRolePolicy or PutUserPolicy " + revoke.PolicyName + " on the role or user of " + planValue(in.Params["principal_arn"])
		if r, u, err := principalOfARN(arn); err == nil {
			role, user = r, u
			call = "iam:PutRolePolicy " + revoke.PolicyName + " on role " + r
			if u != "" {
				call = "iam:PutUserPolicy " + revoke.PolicyName + " on user " + u
			}
		}
	}
	d := &engine.PlanDetail{Calls: []string{call + " (deny sessions issued before now)", "iam:GetRole or GetUser, recorded before the change"}}
	if !in.Check || a.caller == nil {
		return d, nil
	}
	if err := principalExists(ctx, a.iam, role, user); err != nil {
		d.Problems = append(d.Problems, err.Error())
	}
	if in.Params.Bool("force") {
		return d, nil
	}
	who, err := a.caller(ctx)
	switch {
	case err != nil:
		d.Problems = append(d.Problems, err.Error())
	case who.isRole(role) || who.isUser(user):
		d.Problems = append(d.Problems, fmt.Sprintf("the run acts as %q, whose own session this would revoke: run as another principal, or set force: true", who.ARN))
	}
	return d, nil
}

func isUnknown(v any) bool { _, ok := v.(engine.Unknown); return ok }

// planValue shows a parameter as plan prints it.
func planValue(v any) string {
	switch x := v.(type) {
	case engine.Unknown:
		return x.String()
	case nil:
		return "<none>"
	default:
		return engine.Format(x)
	}
}

// principalExists reads the role or user a revocation names: a run on one
// that does not exist would fail.
func principalExists(ctx context.Context, api iamAPI, role, user string) error {
	var err error
	switch {
	case role != "":
		_, err = api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
	case user != "":
		_, err = api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading role %q or user %q: %w", role, user, err)
	}
	return nil
}
