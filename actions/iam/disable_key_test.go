package iam

import (
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/revoke"

	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// leakedUser builds a user with two keys, a console password, an inline
// and an attached policy and a group, and returns the key that leaked.
func (w *iamWorld) leakedUser(t *testing.T, ctx context.Context) (leaked, other string) {
	t.Helper()
	leaked, _ = w.newUser(t, ctx, "ci-deployer")
	other, _ = w.newKey(t, ctx, "ci-deployer")
	u := aws.String("ci-deployer")
	pol, err := w.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read-logs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:Get*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	managed := aws.ToString(pol.Policy.Arn)
	steps := []error{
		second(w.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: u, Password: aws.String("Correct-Horse-9")})),
		second(w.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: u, PolicyName: aws.String("deploy"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`)})),
		second(w.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: u, PolicyArn: aws.String(managed)})),
		second(w.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("deployers")})),
		second(w.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("deployers"), UserName: u})),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatalf("building the user: %v", err)
	}
	mfa, err := w.iam.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("ci-deployer-mfa")})
	if err != nil {
		t.Fatalf("CreateVirtualMFADevice: %v", err)
	}
	w.mfaSerial = aws.ToString(mfa.VirtualMFADevice.SerialNumber)
	if _, err := w.iam.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: u, SerialNumber: aws.String(w.mfaSerial),
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}); err != nil {
		t.Fatalf("EnableMFADevice: %v", err)
	}
	return leaked, other
}

func second[T any](_ T, err error) error { return err }

func (w *iamWorld) keyStatuses(t *testing.T, ctx context.Context, user string) map[string]types.StatusType {
	t.Helper()
	out, err := w.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatalf("ListAccessKeys: %v", err)
	}
	m := map[string]types.StatusType{}
	for _, k := range out.AccessKeyMetadata {
		m[aws.ToString(k.AccessKeyId)] = k.Status
	}
	return m
}

func TestDisableKeyContainsAndKeepsEvidence(t *testing.T) {
	w := newIAMWorld(t)
	ctx := testenv.Context(t)
	leaked, other := w.leakedUser(t, ctx)
	start := time.Now().UTC().Truncate(time.Second)
	out, ev, err := run(ctx, w.reg, "disable-key", engine.Params{"access_key_id": leaked, "delete_login_profile": true})
	if err != nil {
		t.Fatalf("disable-key: %v", err)
	}
	end := time.Now().UTC()
	if mfa, _ := out["mfa_devices"].([]any); len(mfa) != 1 || mfa[0] != w.mfaSerial {
		t.Errorf("mfa_devices: got %v, want [%s]", out["mfa_devices"], w.mfaSerial)
	}
	if out["user_name"] != "ci-deployer" || out["key_status"] != "Inactive" || out["login_profile_deleted"] != true || out["trail_events"] != -1 {
		t.Errorf("outputs: got %v, want user ci-deployer, Inactive, login profile deleted, trail_events -1 (moto lacks LookupEvents)", out)
	}
	st := w.keyStatuses(t, ctx, "ci-deployer")
	if st[leaked] != types.StatusTypeInactive || st[other] != types.StatusTypeActive {
		t.Errorf("keys: got %v, want %s Inactive and still there, %s Active", st, leaked, other)
	}
	p, err := w.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("ci-deployer"), PolicyName: aws.String(revoke.PolicyName)})
	if err != nil {
		t.Fatalf("GetUserPolicy %s: %v", revoke.PolicyName, err)
	}
	// Rounded up to the whole second: a session issued earlier in that second is denied too.
	if at := revokeTime(t, aws.ToString(p.PolicyDocument)); at.Before(start) || at.After(end.Add(time.Second)) || at.Format(time.RFC3339) != out["token_issued_before"] {
		t.Errorf("aws:TokenIssueTime %v, want within the run [%v, %v] and as the output %v says", at, start, end, out["token_issued_before"])
	}
	if _, err := w.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("ci-deployer")}); !awsapi.IsNotFound(err) {
		t.Errorf("GetLoginProfile after delete_login_profile: got %v, want NoSuchEntity", err)
	}
	if got, want := calls(ev, awsapi.EventChange), []string{"iam:UpdateAccessKey", "iam:PutUserPolicy", "iam:DeleteLoginProfile"}; !slices.Equal(got, want) {
		t.Errorf("custody changes: got %v, want %v", got, want)
	}
	if got := calls(ev, awsapi.EventGap); !slices.Equal(got, []string{"cloudtrail:LookupEvents"}) {
		t.Errorf("custody gaps: got %v, want the CloudTrail lookup", got)
	}
	checkDisableEvidence(t, ev, leaked, other)
}

// checkDisableEvidence: the key's state before the change, the user's
// rights, and the CloudTrail gap are each an artifact.
func checkDisableEvidence(t *testing.T, ev *enginetest.Evidence, leaked, other string) {
	t.Helper()
	var keys []types.AccessKeyMetadata
	if err := json.Unmarshal(object(ev, "access-keys.json"), &keys); err != nil || len(keys) != 2 {
		t.Fatalf("access-keys.json: %v %s", err, object(ev, "access-keys.json"))
	}
	for _, k := range keys {
		if k.Status != types.StatusTypeActive {
			t.Errorf("access-keys.json: %s is %s, want the state before the change (Active)", aws.ToString(k.AccessKeyId), k.Status)
		}
	}
	var u userRecord
	if err := json.Unmarshal(object(ev, "user.json"), &u); err != nil {
		t.Fatalf("user.json: %v", err)
	}
	if !slices.Equal(u.Groups, []string{"deployers"}) || len(u.AttachedPolicies) != 1 || !strings.HasSuffix(u.AttachedPolicies[0], ":policy/read-logs") ||
		!strings.Contains(u.InlinePolicies["deploy"], "s3:PutObject") {
		t.Errorf("user.json: got %+v, want the group, the attached and the inline policy", u)
	}
	var tr trailRecord
	if err := json.Unmarshal(object(ev, "cloudtrail-events.json"), &tr); err != nil || tr.Available || !strings.Contains(tr.Reason, "not implemented") || tr.AccessKeyID != leaked {
		t.Errorf("cloudtrail-events.json: got %+v (%v), want available false with the reason", tr, err)
	}
	if d := tr.To.Sub(tr.From); d != 7*24*time.Hour {
		t.Errorf("cloudtrail lookback: got %v, want the default 7 days", d)
	}
}

func TestDisableKeyRerunChangesNothingMore(t *testing.T) {
	w := newIAMWorld(t)
	ctx := testenv.Context(t)
	leaked, _ := w.leakedUser(t, ctx)
	if _, _, err := run(ctx, w.reg, "disable-key", engine.Params{"access_key_id": leaked}); err != nil {
		t.Fatal(err)
	}
	out, ev, err := run(ctx, w.reg, "disable-key", engine.Params{"access_key_id": leaked})
	if err != nil || out["key_status"] != "Inactive" {
		t.Fatalf("rerun: got %v, %v; want Inactive", out, err)
	}
	if got := calls(ev, awsapi.EventChange); !slices.Equal(got, []string{"iam:PutUserPolicy"}) {
		t.Errorf("rerun changes: got %v, want only the policy replaced (the key was already inactive)", got)
	}
	pols, err := w.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("ci-deployer")})
	if err != nil || !slices.Equal(pols.PolicyNames, []string{"deploy", revoke.PolicyName}) {
		t.Errorf("inline policies after two runs: got %v (%v), want deploy and one %s", pols, err, revoke.PolicyName)
	}
	if _, err := w.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("ci-deployer")}); err != nil {
		t.Errorf("the console password was removed without delete_login_profile: %v", err)
	}
}

// TestDisableKeyRefusesTheRunsOwnKey acts as the leaked key itself, then
// as another key of the same user: both would lock the run out.
func TestDisableKeyRefusesTheRunsOwnKey(t *testing.T) {
	w := newIAMWorld(t)
	ctx := testenv.Context(t)
	own, secret := w.newUser(t, ctx, "responder")
	second, _ := w.newKey(t, ctx, "responder")
	asOwn := registryAs(w.configAs(own, secret))
	tests := []struct{ key, want string }{
		{own, "is the one this run uses"},
		{second, "the user of access key"},
	}
	for _, tt := range tests {
		_, ev, err := run(ctx, asOwn, "disable-key", engine.Params{"access_key_id": tt.key})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "force: true") {
			t.Errorf("disable-key %s as itself: got %v, want a refusal containing %q", tt.key, err, tt.want)
		}
		if len(ev.Events()) != 0 {
			t.Errorf("a refusal logged changes: %v", ev.Events())
		}
	}
	if st := w.keyStatuses(t, ctx, "responder"); st[own] != types.StatusTypeActive || st[second] != types.StatusTypeActive {
		t.Errorf("after refusals: keys %v, want both Active", st)
	}
	if _, _, err := run(ctx, asOwn, "disable-key", engine.Params{"access_key_id": own, "force": true}); err != nil {
		t.Fatalf("disable-key with force: %v", err)
	}
	if st := w.keyStatuses(t, ctx, "responder"); st[own] != types.StatusTypeInactive {
		t.Errorf("with force: key %s is %s, want Inactive", own, st[own])
	}
}

func TestDisableKeyRefusesKeysWithoutUser(t *testing.T) {
	w := newIAMWorld(t)
	ctx := testenv.Context(t)
	tests := []struct{ key, want string }{
		{"AKIAEXAMPLEKEY123456", "no IAM user holds the key"},
		{"ASIAEXAMPLESESSION12", "revoke-sessions"},
		{"not-a-key", "is not an access key id"},
		{"", "is not an access key id"},
	}
	for _, tt := range tests {
		_, _, err := run(ctx, w.reg, "disable-key", engine.Params{"access_key_id": tt.key})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("disable-key %q: got %v, want an error containing %q", tt.key, err, tt.want)
		}
	}
	key, _ := w.newUser(t, ctx, "someone")
	for _, lb := range []time.Duration{0, -time.Hour} {
		_, ev, err := run(ctx, w.reg, "disable-key", engine.Params{"access_key_id": key, "lookback": lb})
		if err == nil || !strings.Contains(err.Error(), "must be positive") || len(ev.Events()) != 0 {
			t.Errorf("lookback %v: got %v and events %v, want a refusal before any change", lb, err, ev.Events())
		}
	}
}

// lastUsedDenied refuses GetAccessKeyLastUsed, as a policy without
// iam:GetAccessKeyLastUsed would, and passes every other call to moto.
type lastUsedDenied struct{ *iam.Client }

func (lastUsedDenied) GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	return nil, errors.New("AccessDenied: not allowed")
}

func TestDisableKeyFindsTheUserWithoutLastUsed(t *testing.T) {
	w := newIAMWorld(t)
	ctx := testenv.Context(t)
	for _, u := range []string{"alice", "bob"} {
		w.newUser(t, ctx, u)
	}
	leaked, _ := w.newKey(t, ctx, "bob")
	user, keys, err := findOwner(ctx, lastUsedDenied{w.iam}, leaked)
	if err != nil || user != "bob" || keyStatus(keys, leaked) != types.StatusTypeActive {
		t.Errorf("findOwner by listing: got %q %v %v, want bob holding the key", user, keys, err)
	}
}
