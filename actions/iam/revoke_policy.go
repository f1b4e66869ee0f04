package iam

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/engine"
)

// RevokePolicyName is the inline policy that denies every session of a
// role or user issued before the revocation. One fixed name, shared by
// isolate, revoke-sessions and disable-key: a rerun replaces the policy
// (with the later time) instead of adding another.
const RevokePolicyName = "firebreak-revoke-older-sessions"

// RevokeTime is the aws:TokenIssueTime written for a revocation at now:
// now rounded up to the whole second, since the policy holds seconds and a
// session issued earlier in the same second must be denied too.
func RevokeTime(now time.Time) time.Time {
	t := now.UTC().Truncate(time.Second)
	if t.Before(now) {
		t = t.Add(time.Second)
	}
	return t
}

// RevokePolicy is the document the AWS console writes for "Revoke active
// sessions": deny everything to credentials whose token was issued before
// RevokeTime(before). Long-term access keys carry no token issue time and are not
// affected; disable-key deactivates those.
func RevokePolicy(before time.Time) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Deny", "Action": []string{"*"}, "Resource": []string{"*"},
			"Condition": map[string]any{"DateLessThan": map[string]any{"aws:TokenIssueTime": RevokeTime(before).Format(time.RFC3339)}},
		}},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// RolePolicyPutter is the IAM call RevokeRole makes; *iam.Client has it.
type RolePolicyPutter interface {
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, opts ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

// UserPolicyPutter is the IAM call RevokeUser makes; *iam.Client has it.
type UserPolicyPutter interface {
	PutUserPolicy(ctx context.Context, in *iam.PutUserPolicyInput, opts ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
}

// RevokeRole puts RevokePolicy(before) on role under RevokePolicyName and
// records the change in ev's custody log. Idempotent: it replaces the
// policy a previous call put.
func RevokeRole(ctx context.Context, api RolePolicyPutter, ev engine.Evidence, role string, before time.Time) error {
	doc, err := RevokePolicy(before)
	if err != nil {
		return err
	}
	if _, err := api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(RevokePolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		return fmt.Errorf("revoking older sessions of role %q: %w", role, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, ev, "iam:PutRolePolicy", map[string]any{"role": role, "policy": RevokePolicyName, "token_issued_before": RevokeTime(before).Format(time.RFC3339)})
}

// RevokeUser is RevokeRole for an IAM user: it cuts the temporary
// credentials (GetSessionToken, console sessions) the user's keys made.
func RevokeUser(ctx context.Context, api UserPolicyPutter, ev engine.Evidence, user string, before time.Time) error {
	doc, err := RevokePolicy(before)
	if err != nil {
		return err
	}
	if _, err := api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(RevokePolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		return fmt.Errorf("revoking older sessions of user %q: %w", user, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, ev, "iam:PutUserPolicy", map[string]any{"user": user, "policy": RevokePolicyName, "token_issued_before": RevokeTime(before).Format(time.RFC3339)})
}
