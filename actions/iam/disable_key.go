package iam

import (
	"github.com/firebreak-ir/firebreak/internal/awsperm"
	"github.com/firebreak-ir/firebreak/internal/revoke"

	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// accessKeyPattern is an access key id as IAM writes it.
var accessKeyPattern = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{12,124}$`)

// disableKey contains a leaked access key: it deactivates it (never
// deletes it: the key id is evidence and deactivation can be undone),
// denies the sessions it made, and preserves what the user could do and
// did. Idempotent: a rerun finds the key inactive and replaces its policy.
type disableKey struct {
	iam    iamAPI
	trail  func(region string) trailAPI
	region func(string) string
	caller func(ctx context.Context) (callerInfo, error)
	now    func() time.Time
}

var _ engine.Action = (*disableKey)(nil)

var disableKeyCalls = []string{
	"iam:GetAccessKeyLastUsed", "iam:ListUsers", "iam:ListAccessKeys", "sts:GetCallerIdentity", "iam:UpdateAccessKey",
	"iam:PutUserPolicy", "iam:DeleteLoginProfile", "iam:ListMFADevices", "iam:ListAttachedUserPolicies",
	"iam:ListUserPolicies", "iam:GetUserPolicy", "iam:ListGroupsForUser", "cloudtrail:LookupEvents",
}

// disableKeyParams declare disable-key's parameters.
type disableKeyParams struct {
	AccessKeyID        string        `param:"access_key_id,required"`
	Force              bool          `param:"force" default:"false" doc:"disable the key even when it is the run's own, or belongs to the user the run acts as"`
	DeleteLoginProfile bool          `param:"delete_login_profile" default:"false" doc:"also delete the user's console password (cannot be undone: a new one must be set)"`
	Lookback           time.Duration `param:"lookback" default:"168h" doc:"how far back to look up the key's CloudTrail events"`
	Region             string        `param:"region" default:"" doc:"the region whose CloudTrail to read; empty: the run's default"`
}

func (*disableKey) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "disable-key",
		Summary: "Deactivate a leaked access key (never delete it), deny its user's sessions issued before now, optionally remove the console password, and keep the key's metadata, the user's keys, policies, groups, MFA devices and the key's CloudTrail events as evidence",
		Params:  engine.ParamsOf[disableKeyParams](),
		Outputs: []engine.Output{
			{Name: "access_key_id", Type: engine.TypeString, Doc: "the key deactivated", Headline: true},
			{Name: "user_name", Type: engine.TypeString, Headline: true},
			{Name: "key_status", Type: engine.TypeString, Doc: "Inactive once done", Headline: true},
			{Name: "token_issued_before", Type: engine.TypeString, Doc: "the user's sessions issued before this are denied"},
			{Name: "mfa_devices", Type: engine.TypeList, Doc: "serial numbers of the user's MFA devices"},
			{Name: "login_profile_deleted", Type: engine.TypeBool},
			{Name: "trail_events", Type: engine.TypeInt, Doc: "CloudTrail events found for the key; -1 when CloudTrail could not be read here (a recorded gap)"},
		},
		Calls:       disableKeyCalls,
		Permissions: awsperm.ForCalls(disableKeyCalls),
		Grants:      []engine.Grant{awsperm.InlinePolicyWrites("RevokeSessions", "iam:PutUserPolicy")},
		Mutating:    true,
	}
}

func (a *disableKey) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[disableKeyParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("disable-key: %w (nothing was changed)", err)
	}
	key := p.AccessKeyID
	if !accessKeyPattern.MatchString(key) {
		return nil, fmt.Errorf("disable-key: %q is not an access key id (AKIA... or ASIA...)", key)
	}
	if lb := p.Lookback; lb <= 0 {
		return nil, fmt.Errorf("disable-key: lookback %v must be positive, e.g. 168h", lb)
	}
	user, keys, err := findOwner(ctx, a.iam, key)
	if err != nil {
		return nil, fmt.Errorf("disable-key: %w (nothing was changed)", err)
	}
	if err := a.refuseOwn(ctx, key, user, p.Force); err != nil {
		return nil, fmt.Errorf("disable-key: %w (nothing was changed)", err)
	}
	src := map[string]string{"access_key_id": key, "user_name": user}
	// The key's state before the change: the status it had is evidence.
	if _, err := awsapi.PutJSON(ctx, in.Evidence, engine.ArtifactMeta{Name: "access-keys.json", Kind: "iam-access-keys", Source: src}, keys); err != nil {
		return nil, fmt.Errorf("disable-key: %w (nothing was changed)", err)
	}
	now := a.now()
	out := engine.Outputs{"access_key_id": key, "user_name": user, "token_issued_before": revoke.Time(now).Format(time.RFC3339), "login_profile_deleted": false}
	if err := a.contain(ctx, in, key, user, keyStatus(keys, key), now); err != nil {
		return nil, fmt.Errorf("disable-key: %w", err)
	}
	out["key_status"] = string(types.StatusTypeInactive)
	if p.DeleteLoginProfile {
		deleted, err := deleteLoginProfile(ctx, a.iam, in.Evidence, user)
		if err != nil {
			return nil, fmt.Errorf("disable-key: %w", err)
		}
		out["login_profile_deleted"] = deleted
	}
	if err := a.collect(ctx, in, p, user, now, out); err != nil {
		return nil, fmt.Errorf("disable-key: %w", err)
	}
	return out, nil
}

// refuseOwn stops the run from locking itself out: disabling its own key,
// or denying the sessions of the user it acts as, would fail every later
// step of the run.
func (a *disableKey) refuseOwn(ctx context.Context, key, user string, force bool) error {
	if force {
		return nil
	}
	who, err := a.caller(ctx)
	if err != nil {
		return fmt.Errorf("%w (force: true skips this check)", err)
	}
	if who.AccessKeyID == key {
		return fmt.Errorf("access key %q is the one this run uses: run with other credentials, or set force: true", key)
	}
	if who.isUser(user) {
		return fmt.Errorf("the run acts as %q, the user of access key %q, whose sessions disable-key denies: run as another principal, or set force: true", who.ARN, key)
	}
	return nil
}

// contain deactivates the key (unless it already is) and denies the
// user's sessions issued before now.
func (a *disableKey) contain(ctx context.Context, in *engine.StepInput, key, user string, status types.StatusType, now time.Time) error {
	if status != types.StatusTypeInactive {
		if _, err := a.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(key), UserName: aws.String(user), Status: types.StatusTypeInactive}); err != nil {
			return fmt.Errorf("deactivating access key %q of user %q: %w", key, user, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, in.Evidence, "iam:UpdateAccessKey", map[string]any{"access_key_id": key, "user": user, "from": string(status), "to": "Inactive"}); err != nil {
			return err
		}
	}
	return revoke.User(ctx, a.iam, in.Evidence, user, now)
}

func keyStatus(keys []types.AccessKeyMetadata, key string) types.StatusType {
	for _, k := range keys {
		if aws.ToString(k.AccessKeyId) == key {
			return k.Status
		}
	}
	return ""
}
