package assess

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// staleAfter is how old an access key, or how long unused a credential, may
// be before it fails (CIS AWS Foundations: 90 days).
const staleAfter = 90 * 24 * time.Hour

// user is an IAM user with the lookups several checks share, made once.
type user struct {
	types.User
	console memo[bool] // has a login profile (a console password)
	keys    memo[[]types.AccessKeyMetadata]
}

func (e *Env) listUsers(ctx context.Context) ([]*user, error) {
	return e.users.get(func() ([]*user, error) {
		var us []*user
		p := iam.NewListUsersPaginator(e.IAM(), &iam.ListUsersInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, u := range page.Users {
				us = append(us, &user{User: u})
			}
		}
		return us, nil
	})
}

func (u *user) name() string { return aws.ToString(u.UserName) }

func (u *user) resource() string {
	if arn := aws.ToString(u.Arn); arn != "" {
		return arn
	}
	return u.name()
}

// hasConsole reports whether the user has a console password: GetLoginProfile
// answers NoSuchEntity when not.
func (u *user) hasConsole(ctx context.Context, api IAMAPI) (bool, error) {
	return u.console.get(func() (bool, error) {
		_, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: u.UserName})
		if awsapi.Code(err) == "NoSuchEntity" {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("iam:GetLoginProfile: %w", err)
		}
		return true, nil
	})
}

func (u *user) accessKeys(ctx context.Context, api IAMAPI) ([]types.AccessKeyMetadata, error) {
	return u.keys.get(func() ([]types.AccessKeyMetadata, error) {
		var ks []types.AccessKeyMetadata
		p := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: u.UserName})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("iam:ListAccessKeys: %w", err)
			}
			ks = append(ks, page.AccessKeyMetadata...)
		}
		return ks, nil
	})
}

// userJudge gives a user's verdict, or ok=false when the check does not
// apply to that user (no console password, no key).
type userJudge func(ctx context.Context, env *Env, u *user) (r Result, ok bool)

// forUsers judges every user, a few at a time. When the check applies to
// nobody it passes once on the account, saying so (none is that reason).
func forUsers(none string, judge userJudge) func(context.Context, *Env, string) []Result {
	return func(ctx context.Context, env *Env, _ string) []Result {
		us, err := env.listUsers(ctx)
		if err != nil {
			return []Result{errored("iam users", "iam:ListUsers", err)}
		}
		rs := make([]Result, len(us))
		ok := make([]bool, len(us))
		each(len(us), env.Fanout, func(i int) {
			rs[i], ok[i] = judge(ctx, env, us[i])
			rs[i].Resource = us[i].resource()
		})
		var out []Result
		for i := range rs {
			if ok[i] {
				out = append(out, rs[i])
			}
		}
		if len(out) == 0 {
			out = append(out, passed("iam users", none))
		}
		return out
	}
}

// lookupError is the error verdict of a shared lookup that failed; the
// error already names its call.
func lookupError(err error) Result {
	return Result{Status: Error, Reason: err.Error(), Remediation: accessHint(err)}
}

func accessHint(err error) string {
	if r := errored("", "", err); r.Remediation != "" {
		return "allow the IAM read calls named in the reason to the principal running firebreak assess"
	}
	return ""
}
