package cli

import (
	"context"

	"github.com/firebreak-ir/firebreak/engine/plan"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// permissionChecker is the IAM permission check of plan --check and
// run --dry-run: the caller's policies simulated with
// iam:SimulatePrincipalPolicy. When AWS is not set up, its clients fail
// every call, and the plan says the permissions were not checked.
func (st *cliState) permissionChecker(ctx context.Context) plan.PermissionChecker {
	c := st.awsClients(ctx)
	return awsperm.New(c.IAM(), c.STS())
}

// checkOutcome is how a check plan ends: with problems (a permission
// denied, a target not found) the run would fail, so exit 1.
func (st *cliState) checkOutcome(check bool, problems []string) error {
	if !check || len(problems) == 0 {
		return nil
	}
	st.logf("the check found %d problem(s); the run would fail:\n%s", len(problems), joinLines(problems))
	return silent{code: exitFailed}
}

// planOptions are the plan.Build options of the CLI; with check, the
// permissions are checked by checker.
func (st *cliState) planOptions(in *runInputs, check bool, checker plan.PermissionChecker) []plan.Option {
	opts := []plan.Option{plan.WithLogger(st.logger()), plan.WithFinding(in.objects())}
	if check && checker != nil {
		opts = append(opts, plan.WithPermissionChecker(checker))
	}
	return opts
}
