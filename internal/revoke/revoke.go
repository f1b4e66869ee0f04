// Package revoke cuts a role's or a user's older sessions the way the AWS
// console's "Revoke active sessions" does: an inline deny on sessions whose
// token was issued before now. isolate, revoke-sessions and disable-key share
// it, so the policy has one name and one shape.
package revoke

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// PolicyName is the inline policy that denies every session of a
// role or user issued before the revocation. One fixed name, shared by
// isolate, revoke-sessions and disable-key: a rerun replaces the policy
// (with the later time) instead of adding another.
const PolicyName = "firebreak-revoke-older-sessions"

// Time is the aws:TokenIssueTime written for a revocation at now:
// now rounded up to the whole second, since the policy holds seconds and a
// session issued earlier in the same second must be denied too.
func Time(now time.Time) time.Time {
	t := now.UTC().Truncate(time.Second)
	if t.Before(now) {
		t = t.Add(time.Second)
	}
	return t
}

// Policy is the document the AWS console writes for "Revoke active
// sessions": deny everything to credentials whose token was issued before
// Time(before). Long-term access keys carry no token issue time and are not
// affected; disable-key deactivates those.
func Policy(before time.Time) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Deny", "Action": []string{"*"}, "Resource": []string{"*"},
			"Condition": map[string]any{"DateLessThan": map[string]any{"aws:TokenIssueTime": Time(before).Format(time.RFC3339)}},
		}},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// RolePutter is the IAM call Role makes; *iam.Client has it.
type RolePutter interface {
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, opts ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

// UserPutter is the IAM call User makes; *iam.Client has it.
type UserPutter interface {
	PutUserPolicy(ctx context.Context, in *iam.PutUserPolicyInput, opts ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
}

// Role puts Policy(before) on role under PolicyName and
// records the change in ev's custody log. Idempotent: it replaces the
// policy a previous call put.
func Role(ctx context.Context, api RolePutter, ev engine.Evidence, role string, before time.Time) error {
	doc, err := Policy(before)
	if err != nil {
		return err
	}
	if _, err := api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(PolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		return fmt.Errorf("revoking older sessions of role %q: %w", role, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, ev, "iam:PutRolePolicy", map[string]any{"role": role, "policy": PolicyName, "token_issued_before": Time(before).Format(time.RFC3339)})
}

// User is Role for an IAM user: it cuts the temporary
// credentials (GetSessionToken, console sessions) the user's keys made.
func User(ctx context.Context, api UserPutter, ev engine.Evidence, user string, before time.Time) error {
	doc, err := Policy(before)
	if err != nil {
		return err
	}
	if _, err := api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(PolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		return fmt.Errorf("revoking older sessions of user %q: %w", user, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, ev, "iam:PutUserPolicy", map[string]any{"user": user, "policy": PolicyName, "token_issued_before": Time(before).Format(time.RFC3339)})
}

// ActsAsRole reports whether callerARN, as sts:GetCallerIdentity gives it,
// is a session of the IAM role roleName (":assumed-role/NAME/SESSION"):
// revoking that role's older sessions would cut the run off.
func ActsAsRole(callerARN, roleName string) bool {
	_, rest, ok := strings.Cut(callerARN, ":assumed-role/")
	role, _, _ := strings.Cut(rest, "/")
	return ok && roleName != "" && role == roleName
}

// OwnSessionError is the refusal given when the run acts as the principal
// whose sessions it would revoke.
func OwnSessionError(callerARN string) error {
	return fmt.Errorf("the run acts as %q, whose own session this would revoke: run as another principal, or set force: true", callerARN)
}
