package plan

import (
	"context"
	"fmt"
	"slices"
)

// PermissionChecker tells which IAM actions the caller may not perform,
// without performing them (iam:SimulatePrincipalPolicy). It lives outside
// engine so that engine imports no AWS SDK.
type PermissionChecker interface {
	// Check returns the denied actions, each with why ("implicitDeny",
	// "explicitDeny"). An error means nothing could be checked: it is not
	// a pass.
	Check(ctx context.Context, actions []string) (denied map[string]string, err error)
}

// WithPermissionChecker makes a check plan (Build with check) ask c about
// the permissions of every step that may run: each denied one becomes a
// problem of the step, and a checker error a note that permissions were
// not checked. Without it, a check plan checks no IAM permission.
func WithPermissionChecker(c PermissionChecker) Option {
	return func(b *builder) { b.perms = c }
}

// unchecked are permissions a simulation cannot judge: sts:GetCallerIdentity
// works whatever the policies say, so a simulated deny would be wrong.
var unchecked = map[string]bool{"sts:GetCallerIdentity": true}

// checkPermissions asks the checker once for the permissions of every step
// that is not skipped, then puts the answer on each step that needs them.
// The plan's PermissionCheck says whether the check happened.
func (b *builder) checkPermissions(ctx context.Context, p *Plan) {
	if !b.check || b.perms == nil {
		return
	}
	need := map[int][]string{}
	var all []string
	for i, st := range p.Steps {
		if st.Decision == DecisionSkip {
			continue
		}
		act, ok := b.reg.Lookup(st.Action)
		if !ok {
			continue
		}
		for _, perm := range act.Spec().Permissions {
			if !unchecked[perm] {
				need[i] = append(need[i], perm)
				all = append(all, perm)
			}
		}
	}
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	all = slices.Compact(all)
	denied, err := b.perms.Check(ctx, all)
	if err != nil {
		p.PermissionCheck = fmt.Sprintf("permissions not checked: %v", err)
		for i := range need {
			p.Steps[i].Notes = append(p.Steps[i].Notes, p.PermissionCheck)
		}
		return
	}
	p.PermissionCheck = fmt.Sprintf("%d permission(s) checked with the caller's policies, %d denied", len(all), len(denied))
	for i, perms := range need {
		for _, perm := range dedupe(perms) {
			if why, ok := denied[perm]; ok {
				p.Steps[i].Problems = append(p.Steps[i].Problems, fmt.Sprintf("iam: %s denied (%s)", perm, why))
			}
		}
	}
}
