package assess

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestIAMChecksOnMoto: console users with and without MFA,
// AdministratorAccess attached directly, through a group, and not at all;
// fresh keys pass the age and unused checks. moto keeps the root user
// without MFA and without keys, so iam.root.mfa fails here and
// iam.root.access-keys passes; the other verdicts are in TestRootVerdicts.
func TestIAMChecksOnMoto(t *testing.T) {
	// moto_server leaves out the AWS-managed policies (AdministratorAccess
	// among them) unless its environment asks for them.
	t.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
	a := startAccount(t)
	api := a.clients.IAM()
	ok := noErr(t)
	for _, u := range []string{"no-mfa", "with-mfa", "api-only", "admin", "group-admin"} {
		ok(api.CreateUser(a.ctx, &iam.CreateUserInput{UserName: str(u)}))
	}
	for _, u := range []string{"no-mfa", "with-mfa"} {
		ok(api.CreateLoginProfile(a.ctx, &iam.CreateLoginProfileInput{UserName: str(u), Password: str("Secret-123456!")}))
	}
	dev, err := api.CreateVirtualMFADevice(a.ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: str("with-mfa")})
	if err != nil {
		t.Fatal(err)
	}
	ok(api.EnableMFADevice(a.ctx, &iam.EnableMFADeviceInput{UserName: str("with-mfa"), SerialNumber: dev.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: str("123456"), AuthenticationCode2: str("654321")}))
	ok(api.CreateAccessKey(a.ctx, &iam.CreateAccessKeyInput{UserName: str("api-only")}))
	ok(api.AttachUserPolicy(a.ctx, &iam.AttachUserPolicyInput{UserName: str("admin"), PolicyArn: str(administratorAccess)}))
	ok(api.CreateGroup(a.ctx, &iam.CreateGroupInput{GroupName: str("admins")}))
	ok(api.AttachGroupPolicy(a.ctx, &iam.AttachGroupPolicyInput{GroupName: str("admins"), PolicyArn: str(administratorAccess)}))
	ok(api.AddUserToGroup(a.ctx, &iam.AddUserToGroupInput{GroupName: str("admins"), UserName: str("group-admin")}))

	rep := a.assess(t, "iam.*")
	tests := []struct {
		name, check, resource string
		want                  Status
	}{
		{"console user with MFA", "iam.user.console-mfa", "user/with-mfa", Pass},
		{"console user without MFA", "iam.user.console-mfa", "user/no-mfa", Fail},
		{"no admin policy", "iam.user.admin-access", "user/with-mfa", Pass},
		{"AdministratorAccess attached", "iam.user.admin-access", "user/admin", Fail},
		{"AdministratorAccess through a group", "iam.user.admin-access", "user/group-admin", Fail},
		{"fresh key", "iam.user.access-key-age", "user/api-only", Pass},
		{"fresh key, fresh password", "iam.user.unused-credentials", "user/api-only", Pass},
		{"root MFA (moto has none)", "iam.root.mfa", "root", Fail},
		{"root keys (moto has none)", "iam.root.access-keys", "root", Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { want(t, verdict(t, rep, tt.check, tt.resource), tt.want) })
	}
	for _, r := range rep.Results {
		if r.CheckID == "iam.user.console-mfa" && strings.HasSuffix(r.Resource, "user/api-only") {
			t.Errorf("console-mfa judged a user without a console password: %+v", r)
		}
	}
	if r := verdict(t, rep, "iam.user.admin-access", "user/group-admin"); !strings.Contains(r.Remediation, "remove-user-from-group --group-name admins") {
		t.Errorf("group admin remediation: got %q, want remove-user-from-group", r.Remediation)
	}
}

// fakeIAM answers GetAccountSummary with a given map and fails every other
// call it is not given (a nil embedded interface panics; the runner turns
// that into an error result).
type fakeIAM struct {
	IAMAPI
	summary map[string]int32
	err     error
}

func (f *fakeIAM) GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &iam.GetAccountSummaryOutput{SummaryMap: f.summary}, nil
}

func (f *fakeIAM) ListUsers(context.Context, *iam.ListUsersInput, ...func(*iam.Options)) (*iam.ListUsersOutput, error) {
	return nil, f.err
}

func (f *fakeIAM) GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return nil, f.err
}

// TestRootVerdicts covers the root verdicts moto cannot produce (it has
// no way to give root MFA or keys), with GetAccountSummary's own output type.
func TestRootVerdicts(t *testing.T) {
	tests := []struct {
		name    string
		summary map[string]int32
		check   string
		want    Status
	}{
		{"root MFA on", map[string]int32{"AccountMFAEnabled": 1}, "iam.root.mfa", Pass},
		{"root MFA off", map[string]int32{"AccountMFAEnabled": 0}, "iam.root.mfa", Fail},
		{"root keys present", map[string]int32{"AccountAccessKeysPresent": 1}, "iam.root.access-keys", Fail},
		{"root keys absent", map[string]int32{"AccountAccessKeysPresent": 0}, "iam.root.access-keys", Pass},
		{"entry missing", map[string]int32{}, "iam.root.mfa", Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := &Env{IAM: func() IAMAPI { return &fakeIAM{summary: tt.summary} }, Fanout: 2, Now: time.Now}
			rep := assessFake(t, env, tt.check)
			want(t, verdict(t, rep, tt.check, "root"), tt.want)
		})
	}
}

func assessFake(t *testing.T, env *Env, pattern string) *Report {
	t.Helper()
	reg := NewRegistry()
	Register(reg)
	checks, err := reg.Select([]string{pattern}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Assess(context.Background(), env, checks, []string{"us-east-1"}, 2)
}

// TestKeyAgeAndUnusedVerdicts covers what moto cannot set up: keys and
// passwords created or last used long ago (moto stamps CreateDate now).
func TestKeyAgeAndUnusedVerdicts(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	ago := func(days int) *time.Time { d := now.AddDate(0, 0, -days); return &d }
	key := func(id string, status types.StatusType, created *time.Time) types.AccessKeyMetadata {
		return types.AccessKeyMetadata{AccessKeyId: str(id), Status: status, CreateDate: created, UserName: str("u")}
	}
	t.Run("age", func(t *testing.T) {
		tests := []struct {
			name   string
			keys   []types.AccessKeyMetadata
			want   Status
			judged bool
		}{
			{"89 days", []types.AccessKeyMetadata{key("AKIA1", types.StatusTypeActive, ago(89))}, Pass, true},
			{"91 days", []types.AccessKeyMetadata{key("AKIA1", types.StatusTypeActive, ago(91))}, Fail, true},
			{"old but inactive", []types.AccessKeyMetadata{key("AKIA1", types.StatusTypeInactive, ago(400))}, "", false},
			{"one old among new", []types.AccessKeyMetadata{key("AKIA1", types.StatusTypeActive, ago(1)), key("AKIA2", types.StatusTypeActive, ago(200))}, Fail, true},
			{"no keys", nil, "", false},
		}
		for _, tt := range tests {
			r, judged := keyAgeVerdict("u", tt.keys, now)
			if judged != tt.judged || r.Status != tt.want {
				t.Errorf("%s: got %v %s (%s), want %v %s", tt.name, judged, r.Status, r.Reason, tt.judged, tt.want)
			}
		}
	})
	t.Run("unused", func(t *testing.T) {
		u := func(created, pwUsed *time.Time) types.User {
			return types.User{UserName: str("u"), CreateDate: created, PasswordLastUsed: pwUsed}
		}
		tests := []struct {
			name    string
			user    types.User
			console bool
			keys    []keyUse
			want    Status
		}{
			{"password used yesterday", u(ago(500), ago(1)), true, nil, Pass},
			{"password last used 100 days ago", u(ago(500), ago(100)), true, nil, Fail},
			{"password never used, user 100 days old", u(ago(100), nil), true, nil, Fail},
			{"password never used, user new", u(ago(3), nil), true, nil, Pass},
			{"key used last week", u(ago(500), nil), false, []keyUse{{Key: key("AKIA1", types.StatusTypeActive, ago(400)), LastUsed: ago(7)}}, Pass},
			{"key never used, 120 days old", u(ago(500), nil), false, []keyUse{{Key: key("AKIA1", types.StatusTypeActive, ago(120))}}, Fail},
			{"key last used 95 days ago", u(ago(500), nil), false, []keyUse{{Key: key("AKIA1", types.StatusTypeActive, ago(400)), LastUsed: ago(95)}}, Fail},
		}
		for _, tt := range tests {
			r, judged := unusedVerdict(tt.user, tt.console, tt.keys, now)
			if !judged || r.Status != tt.want {
				t.Errorf("%s: got %v %s (%s), want %s", tt.name, judged, r.Status, r.Reason, tt.want)
			}
		}
		if _, judged := unusedVerdict(u(ago(500), nil), false, nil, now); judged {
			t.Error("a user with no credential: judged, want left out")
		}
	})
	_ = aws.String
}
