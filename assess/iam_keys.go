package assess

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func registerIAMKeys(r *Registry) {
	r.Register(Check{ID: "iam.user.access-key-age", Family: "iam", Title: "Active access keys are at most 90 days old", Severity: Medium, Scope: Global,
		Description: "Long-lived keys leak; an active key older than 90 days should be rotated.",
		Run:         forUsers("no IAM user has an active access key", judgeKeyAge)})
	r.Register(Check{ID: "iam.user.unused-credentials", Family: "iam", Title: "No credential unused for 90 days", Severity: Medium, Scope: Global,
		Description: "A console password or active access key not used in 90 days is a credential nobody would miss, and nobody would notice being used.",
		Run:         forUsers("no IAM user has a console password or an active access key", judgeUnused)})
}

func judgeKeyAge(ctx context.Context, env *Env, u *user) (Result, bool) {
	keys, err := u.accessKeys(ctx, env.IAM())
	if err != nil {
		return lookupError(err), true
	}
	return keyAgeVerdict(u.name(), keys, env.Now())
}

// keyAgeVerdict judges a user's keys as ListAccessKeys gives them: ok is
// false when the user has no active key.
func keyAgeVerdict(name string, keys []types.AccessKeyMetadata, now time.Time) (Result, bool) {
	var old, fix []string
	active := 0
	for _, k := range keys {
		if k.Status != types.StatusTypeActive {
			continue
		}
		active++
		if created := aws.ToTime(k.CreateDate); now.Sub(created) > staleAfter {
			id := aws.ToString(k.AccessKeyId)
			old = append(old, fmt.Sprintf("%s (created %s, %d days ago)", id, created.Format(time.DateOnly), int(now.Sub(created).Hours()/24)))
			fix = append(fix, fmt.Sprintf("aws iam create-access-key --user-name %s && aws iam update-access-key --user-name %s --access-key-id %s --status Inactive", name, name, id))
		}
	}
	if active == 0 {
		return Result{}, false
	}
	if len(old) > 0 {
		return failed("", "active access key older than 90 days: "+strings.Join(old, ", "), strings.Join(fix, " && ")), true
	}
	return passed("", fmt.Sprintf("%d active key(s), none older than 90 days", active)), true
}

func judgeUnused(ctx context.Context, env *Env, u *user) (Result, bool) {
	api := env.IAM()
	console, err := u.hasConsole(ctx, api)
	if err != nil {
		return lookupError(err), true
	}
	keys, err := u.accessKeys(ctx, api)
	if err != nil {
		return lookupError(err), true
	}
	var uses []keyUse
	for _, k := range keys {
		if k.Status != types.StatusTypeActive {
			continue
		}
		out, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId})
		if err != nil {
			return errored("", "iam:GetAccessKeyLastUsed", err), true
		}
		use := keyUse{Key: k}
		if out.AccessKeyLastUsed != nil {
			use.LastUsed = out.AccessKeyLastUsed.LastUsedDate
		}
		uses = append(uses, use)
	}
	return unusedVerdict(u.User, console, uses, env.Now())
}

// keyUse is an active access key with when it was last used (nil: never).
type keyUse struct {
	Key      types.AccessKeyMetadata
	LastUsed *time.Time
}

// unusedVerdict judges a user's credentials as ListUsers, GetLoginProfile
// and GetAccessKeyLastUsed give them: a credential never used counts from
// its creation, so a key made today is not stale. ok is false when the
// user has no credential at all.
func unusedVerdict(u types.User, console bool, keys []keyUse, now time.Time) (Result, bool) {
	if !console && len(keys) == 0 {
		return Result{}, false
	}
	name := aws.ToString(u.UserName)
	var stale, fix []string
	if console && idle(u.PasswordLastUsed, u.CreateDate, now) {
		stale = append(stale, "console password "+lastUse(u.PasswordLastUsed))
		fix = append(fix, "aws iam delete-login-profile --user-name "+name)
	}
	for _, k := range keys {
		if idle(k.LastUsed, k.Key.CreateDate, now) {
			id := aws.ToString(k.Key.AccessKeyId)
			stale = append(stale, "access key "+id+" "+lastUse(k.LastUsed))
			fix = append(fix, fmt.Sprintf("aws iam update-access-key --user-name %s --access-key-id %s --status Inactive", name, id))
		}
	}
	if len(stale) > 0 {
		return failed("", "unused for 90 days or more: "+strings.Join(stale, ", "), strings.Join(fix, " && ")), true
	}
	return passed("", "every credential was used in the last 90 days or is newer than that"), true
}

func idle(lastUsed, created *time.Time, now time.Time) bool {
	since := created
	if lastUsed != nil && !lastUsed.IsZero() {
		since = lastUsed
	}
	return since != nil && now.Sub(*since) > staleAfter
}

func lastUse(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never used"
	}
	return "last used " + t.Format(time.DateOnly)
}
