package iam

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// userRecord is what the user of a leaked key could do, as found after
// containment: the evidence of what the key gave access to.
type userRecord struct {
	UserName         string            `json:"user_name"`
	MFADevices       []string          `json:"mfa_devices"`
	AttachedPolicies []string          `json:"attached_policies"`
	InlinePolicies   map[string]string `json:"inline_policies"` // name -> document (URL-decoded)
	Groups           []string          `json:"groups"`
}

// collect stores the user's record and the key's CloudTrail events, and
// fills the outputs they give.
func (a *disableKey) collect(ctx context.Context, in *engine.StepInput, p disableKeyParams, user string, now time.Time, out engine.Outputs) error {
	key := p.AccessKeyID
	rec, err := readUser(ctx, a.iam, user)
	if err != nil {
		return err
	}
	src := map[string]string{"access_key_id": key, "user_name": user}
	if _, err := awsapi.PutJSON(ctx, in.Evidence, engine.ArtifactMeta{Name: "user.json", Kind: "iam-user", Source: src}, rec); err != nil {
		return err
	}
	out["mfa_devices"] = stringsAny(rec.MFADevices)
	region := a.region(p.Region)
	n, err := lookupKeyEvents(ctx, a.trail(region), in.Evidence, key, region, now.Add(-p.Lookback), now)
	out["trail_events"] = n
	return err
}

func readUser(ctx context.Context, api iamAPI, user string) (*userRecord, error) {
	rec := &userRecord{UserName: user, MFADevices: []string{}, AttachedPolicies: []string{}, InlinePolicies: map[string]string{}, Groups: []string{}}
	u := aws.String(user)
	mfa, err := api.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: u})
	if err != nil {
		return nil, readErr("MFA devices", user, err)
	}
	for _, d := range mfa.MFADevices {
		rec.MFADevices = append(rec.MFADevices, aws.ToString(d.SerialNumber))
	}
	attached, err := api.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: u})
	if err != nil {
		return nil, readErr("attached policies", user, err)
	}
	for _, p := range attached.AttachedPolicies {
		rec.AttachedPolicies = append(rec.AttachedPolicies, aws.ToString(p.PolicyArn))
	}
	groups, err := api.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: u})
	if err != nil {
		return nil, readErr("groups", user, err)
	}
	for _, g := range groups.Groups {
		rec.Groups = append(rec.Groups, aws.ToString(g.GroupName))
	}
	return rec, readInline(ctx, api, rec)
}

func readInline(ctx context.Context, api iamAPI, rec *userRecord) error {
	names, err := api.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(rec.UserName)})
	if err != nil {
		return readErr("inline policies", rec.UserName, err)
	}
	for _, name := range names.PolicyNames {
		p, err := api.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(rec.UserName), PolicyName: aws.String(name)})
		if err != nil {
			return readErr("inline policy "+name, rec.UserName, err)
		}
		doc := aws.ToString(p.PolicyDocument)
		if d, err := url.QueryUnescape(doc); err == nil {
			doc = d // IAM returns documents URL-encoded
		}
		rec.InlinePolicies[name] = doc
	}
	return nil
}

func readErr(what, user string, err error) error {
	return fmt.Errorf("reading the %s of user %q: %w", what, user, awsapi.Classify(err))
}

func stringsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
