package awsperm

import (
	"slices"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// Escalating are IAM actions that must never be allowed on "*": a policy
// written or attached can grant its principal anything, and a role passed
// to any service is that role's power. An action that needs one declares
// it in a Grant (InlinePolicyWrites, PassOwnRolesToEC2), which a test of
// every registered action checks.
var Escalating = []string{
	"iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:DeleteRolePolicy", "iam:DeleteUserPolicy",
	"iam:PassRole", "iam:PutRolePolicy", "iam:PutUserPolicy",
}

// InlinePolicyWrites grants actions, inline-policy writes, for reason (a
// word: "RevokeSessions"): iam:PutRolePolicy on roles, iam:PutUserPolicy on
// users, each kind only when actions hold its write.
func InlinePolicyWrites(reason string, actions ...string) engine.Grant {
	return InlinePolicyWritesOn(reason, nil, nil, actions...)
}

// InlinePolicyWritesOn is InlinePolicyWrites on the roles and users named
// only (a name may end in *; a plain name also matches under any path);
// nil: every role, or every user.
func InlinePolicyWritesOn(reason string, roles, users []string, actions ...string) engine.Grant {
	var res []string
	for _, k := range []struct {
		write, kind string
		names       []string
	}{{"iam:PutRolePolicy", "role", roles}, {"iam:PutUserPolicy", "user", users}} {
		if !slices.Contains(actions, k.write) {
			continue
		}
		if k.names == nil {
			res = append(res, "arn:aws:iam::*:"+k.kind+"/*")
			continue
		}
		for _, n := range k.names {
			res = append(res, "arn:aws:iam::*:"+k.kind+"/"+n)
			if !strings.Contains(n, "*") {
				res = append(res, "arn:aws:iam::*:"+k.kind+"/*/"+n)
			}
		}
	}
	return engine.Grant{Statement: "InlinePolicyWrites", Reason: reason, Actions: actions, Resource: res}
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
