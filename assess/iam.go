package assess

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// AdministratorAccess is the AWS-managed policy iam.user.admin-access looks for.
const administratorAccess = "arn:aws:iam::aws:policy/AdministratorAccess"

func registerIAM(r *Registry) {
	r.Register(Check{ID: "iam.root.mfa", Family: "iam", Title: "Root user has MFA", Severity: High, Scope: Global,
		Description: "The root user can do anything, including closing the account; without MFA its password alone is enough.",
		Run: rootSummary("AccountMFAEnabled", 1, "the root user has MFA", "the root user has no MFA device",
			"enable MFA for the root user in the console (Security credentials); there is no CLI for the root user")})
	r.Register(Check{ID: "iam.root.access-keys", Family: "iam", Title: "Root user has no access keys", Severity: High, Scope: Global,
		Description: "Root access keys are unrestricted long-lived credentials; they should not exist.",
		Run: rootSummary("AccountAccessKeysPresent", 0, "the root user has no access keys", "the root user has access keys",
			"sign in as root, then delete its keys under Security credentials; there is no CLI for the root user")})
	r.Register(Check{ID: "iam.user.console-mfa", Family: "iam", Title: "IAM users with a console password have MFA", Severity: High, Scope: Global,
		Description: "Every user who can sign in to the console has an MFA device.",
		Run:         forUsers("no IAM user has a console password", judgeConsoleMFA)})
	r.Register(Check{ID: "iam.user.admin-access", Family: "iam", Title: "No IAM user has AdministratorAccess", Severity: High, Scope: Global,
		Description: "AdministratorAccess attached to a user, directly or through a group, makes every leaked credential of that user an account takeover.",
		Run:         forUsers("the account has no IAM users", judgeAdmin)})
}

// rootSummary judges the root user by one GetAccountSummary entry.
func rootSummary(key string, want int32, pass, fail, fix string) func(context.Context, *Env, string) []Result {
	return func(ctx context.Context, env *Env, _ string) []Result {
		out, err := env.IAM().GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			return []Result{errored("root", "iam:GetAccountSummary", err)}
		}
		got, ok := out.SummaryMap[key]
		if !ok {
			return []Result{{Resource: "root", Status: Error, Reason: fmt.Sprintf("iam:GetAccountSummary has no %q entry", key)}}
		}
		if got == want {
			return []Result{passed("root", pass)}
		}
		return []Result{failed("root", fail, fix)}
	}
}

func judgeConsoleMFA(ctx context.Context, env *Env, u *user) (Result, bool) {
	api := env.IAM()
	console, err := u.hasConsole(ctx, api)
	if err != nil {
		return lookupError(err), true
	}
	if !console {
		return Result{}, false
	}
	out, err := api.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: u.UserName})
	if err != nil {
		return errored("", "iam:ListMFADevices", err), true
	}
	if len(out.MFADevices) > 0 {
		return passed("", fmt.Sprintf("console password with %d MFA device(s)", len(out.MFADevices))), true
	}
	return failed("", "console password and no MFA device",
		fmt.Sprintf("aws iam create-virtual-mfa-device --virtual-mfa-device-name %s --outfile %s-mfa.png --bootstrap-method QRCodePNG && "+
			"aws iam enable-mfa-device --user-name %s --serial-number ARN --authentication-code1 CODE1 --authentication-code2 CODE2 "+
			"(or remove the password: aws iam delete-login-profile --user-name %s)", u.name(), u.name(), u.name(), u.name())), true
}

func judgeAdmin(ctx context.Context, env *Env, u *user) (Result, bool) {
	api := env.IAM()
	var via []string
	direct, err := api.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: u.UserName})
	if err != nil {
		return errored("", "iam:ListAttachedUserPolicies", err), true
	}
	for _, p := range direct.AttachedPolicies {
		if aws.ToString(p.PolicyArn) == administratorAccess {
			via = append(via, "attached to the user")
		}
	}
	groups, err := api.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: u.UserName})
	if err != nil {
		return errored("", "iam:ListGroupsForUser", err), true
	}
	var fix []string
	for _, g := range groups.Groups {
		gp, err := api.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: g.GroupName})
		if err != nil {
			return errored("", "iam:ListAttachedGroupPolicies", err), true
		}
		for _, p := range gp.AttachedPolicies {
			if aws.ToString(p.PolicyArn) == administratorAccess {
				via = append(via, fmt.Sprintf("through group %q", aws.ToString(g.GroupName)))
				fix = append(fix, fmt.Sprintf("aws iam remove-user-from-group --group-name %s --user-name %s", aws.ToString(g.GroupName), u.name()))
			}
		}
	}
	if len(via) == 0 {
		return passed("", "AdministratorAccess is not attached, directly or through a group"), true
	}
	if len(fix) < len(via) {
		fix = append([]string{fmt.Sprintf("aws iam detach-user-policy --user-name %s --policy-arn %s", u.name(), administratorAccess)}, fix...)
	}
	return failed("", "AdministratorAccess "+strings.Join(via, " and "), strings.Join(fix, " && ")), true
}
