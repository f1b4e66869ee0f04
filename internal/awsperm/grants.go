package awsperm

import "github.com/firebreak-ir/firebreak/engine"

// Escalating are IAM actions that must never be allowed on "*": a policy
// written or attached can grant its principal anything, and a role passed
// to any service is that role's power. An action that needs one declares
// it in a Grant (InlinePolicyWrites, PassOwnRolesToEC2), which a test of
// every registered action checks.
var Escalating = []string{
	"iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:DeleteRolePolicy", "iam:DeleteUserPolicy",
	"iam:PassRole", "iam:PutRolePolicy", "iam:PutUserPolicy",
}

// InlinePolicyWrites grants actions, inline-policy writes, on IAM roles and
// users only, for reason (a word: "RevokeSessions").
func InlinePolicyWrites(reason string, actions ...string) engine.Grant {
	return engine.Grant{Statement: "InlinePolicyWrites", Reason: reason, Actions: actions,
		Resource: []string{"arn:aws:iam::*:role/*", "arn:aws:iam::*:user/*"}}
}

// PassOwnRolesToEC2 grants iam:PassRole on the roles firebreak makes
// (create-workstation's firebreak-workstation-CASE), and only to EC2.
// Roles of the responder's own (an instance's profile that release puts
// back, isolate's replacement_profile) need a grant of their own, which
// the note says.
var PassOwnRolesToEC2 = engine.Grant{
	Statement: "PassOwnRolesToEC2",
	Actions:   []string{"iam:PassRole"},
	Resource:  []string{"arn:aws:iam::*:role/firebreak-*"},
	Condition: map[string]map[string]string{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
	Note:      "iam:PassRole is granted on roles named firebreak-* only: restoring an instance's own profile (release) or a replacement_profile with another role needs iam:PassRole on that role too",
}
