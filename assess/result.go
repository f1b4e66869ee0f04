package assess

import (
	"fmt"
	"strings"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// GlobalRegion is the Region of results about account-wide things (IAM,
// the root user, the account's trails).
const GlobalRegion = "global"

// Result is one verdict on one resource. Its JSON form is part of the
// `--format json` contract (see Report).
type Result struct {
	CheckID     string   `json:"check_id"`
	Title       string   `json:"title"`
	Family      string   `json:"family"`
	Severity    Severity `json:"severity"`
	Resource    string   `json:"resource"` // an ARN where AWS has one, else an id or name
	Region      string   `json:"region"`   // a region, or "global"
	Status      Status   `json:"status"`
	Reason      string   `json:"reason"`
	Remediation string   `json:"remediation,omitempty"` // the AWS CLI command that fixes it (fail), or what to grant (error)
}

func passed(resource, reason string) Result {
	return Result{Resource: resource, Status: Pass, Reason: reason}
}

func failed(resource, reason, fix string) Result {
	return Result{Resource: resource, Status: Fail, Reason: reason, Remediation: fix}
}

// errored is the verdict of a check that could not look: the call that
// failed and why. Access denied names the permission to grant; an API the
// endpoint lacks says so, so nobody reads it as a pass.
func errored(resource, call string, err error) Result {
	r := Result{Resource: resource, Status: Error, Reason: fmt.Sprintf("%s: %v", call, err)}
	code := awsapi.Code(err)
	switch {
	case strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation" || code == "AuthorizationError":
		r.Remediation = fmt.Sprintf("allow %s to the principal running firebreak assess", call)
	case awsapi.IsNotImplemented(err) || awsapi.IsUnanswered(err):
		r.Reason = fmt.Sprintf("%s is not available at this endpoint, so this could not be checked: %v", call, err)
	}
	return r
}
