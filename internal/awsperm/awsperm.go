// Package awsperm checks, without performing them, which IAM actions the
// caller may not perform: sts:GetCallerIdentity names the caller and
// iam:SimulatePrincipalPolicy evaluates its policies (identity policies,
// permissions boundary and, where AWS applies them, organisation SCPs).
// It implements plan.PermissionChecker for `plan --check` and
// `run --dry-run`; engine stays free of the AWS SDK.
package awsperm

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-ir/firebreak/engine/plan"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// IAMAPI is the one IAM call the checker makes; *iam.Client has it.
type IAMAPI interface {
	SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, opts ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
}

// STSAPI is the one STS call the checker makes; *sts.Client has it.
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// batchSize bounds the action names of one simulation request, so that a
// long playbook does not meet a request-size limit.
const batchSize = 50

// Checker simulates the caller's policies. It is safe for concurrent use.
type Checker struct {
	iam IAMAPI
	sts STSAPI
}

var _ plan.PermissionChecker = (*Checker)(nil)

// New returns a checker using the given clients.
func New(iamAPI IAMAPI, stsAPI STSAPI) *Checker {
	return &Checker{iam: iamAPI, sts: stsAPI}
}

// Check returns the actions the caller is denied, each with the decision
// ("implicitDeny" or "explicitDeny"). It simulates on every resource ("*"),
// so an action allowed only on some resources counts as allowed. An error
// means the caller's permissions could not be checked at all.
func (c *Checker) Check(ctx context.Context, actions []string) (map[string]string, error) {
	id, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("sts:GetCallerIdentity: %w", err)
	}
	principal, err := PrincipalARN(aws.ToString(id.Arn))
	if err != nil {
		return nil, err
	}
	denied := map[string]string{}
	for start := 0; start < len(actions); start += batchSize {
		batch := actions[start:min(start+batchSize, len(actions))]
		if err := c.simulate(ctx, principal, batch, denied); err != nil {
			return nil, err
		}
	}
	return denied, nil
}

// simulate evaluates one batch, page by page, adding the denied actions.
func (c *Checker) simulate(ctx context.Context, principal string, actions []string, denied map[string]string) error {
	in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(principal), ActionNames: actions}
	pages := iam.NewSimulatePrincipalPolicyPaginator(c.iam, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return simulateError(principal, err)
		}
		for _, r := range out.EvaluationResults {
			if d := string(r.EvalDecision); d != "allowed" {
				denied[aws.ToString(r.EvalActionName)] = d
			}
		}
	}
	return nil
}

// simulateError says why the simulation failed and what to do about it.
func simulateError(principal string, err error) error {
	switch {
	case awsapi.IsNotImplemented(err) || awsapi.IsUnanswered(err):
		return fmt.Errorf("iam:SimulatePrincipalPolicy is not answered by this endpoint: %w", err)
	case strings.Contains(awsapi.Code(err), "AccessDenied"):
		return fmt.Errorf("iam:SimulatePrincipalPolicy on %q denied (grant it to check permissions before a run): %w", principal, err)
	}
	return fmt.Errorf("iam:SimulatePrincipalPolicy on %q: %w", principal, err)
}

// PrincipalARN is the IAM principal whose policies apply to a caller ARN:
// an assumed-role session is judged by its role's policies, so
// arn:aws:sts::123456789012:assumed-role/NAME/SESSION becomes
// arn:aws:iam::123456789012:role/NAME. A role with a path is named without
// it (the session ARN does not carry it); IAM then does not find the role
// and the check says so rather than passing. Users and roles are kept as
// they are; other STS principals (federated users) cannot be simulated.
func PrincipalARN(caller string) (string, error) {
	a, err := arn.Parse(caller)
	if err != nil {
		return "", fmt.Errorf("caller %q: %w", caller, err)
	}
	if a.Service == "iam" {
		return caller, nil
	}
	role, ok := strings.CutPrefix(a.Resource, "assumed-role/")
	if a.Service != "sts" || !ok {
		return "", fmt.Errorf("caller %q: only IAM users and roles can be simulated", caller)
	}
	name, _, ok := strings.Cut(role, "/")
	if !ok || name == "" {
		return "", fmt.Errorf("caller %q: no role name in the assumed-role ARN", caller)
	}
	return arn.ARN{Partition: a.Partition, Service: "iam", AccountID: a.AccountID, Resource: "role/" + name}.String(), nil
}
