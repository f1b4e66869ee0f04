package assess

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// What fails in the built-in playbooks without each readiness item; the
// readiness results name it, so a responder knows what is at stake.
const (
	needsEvidence = "without it, run --evidence s3://... has no safe store: host-compromise steps gather (collect-metadata), " +
		"disks (snapshot) and log (upload-log) write artifacts and the custody log there"
	needsRole = "responders assume it to run playbooks (see `firebreak iam-policy host-compromise` for what it needs); " +
		"without it every AWS step of host-compromise (gather, isolate, disks, stop) fails on access"
	needsSSH = "host-compromise: a memory step (capture-memory) needs SSH (tcp/22) to the host; capture-memory speaks SSH only, " +
		"so SSM management does not help it"
)

func registerReadiness(r *Registry) {
	r.Register(Check{ID: "readiness.evidence-bucket", Family: "readiness", Title: "A hardened evidence bucket exists", Severity: High, Scope: Global,
		Description: "The bucket named by --evidence-bucket, else the one tagged firebreak:evidence=true, has versioning, default encryption, " +
			"Block Public Access and Object Lock, so collected evidence can be neither read by outsiders nor destroyed. " + needsEvidence,
		Run: checkEvidenceBucket})
	r.Register(Check{ID: "readiness.responder-role", Family: "readiness", Title: "The responder role exists", Severity: Medium, Scope: Global,
		Description: "The IAM role named by --responder-role (default firebreak-responder) exists before an incident, not during one. " + needsRole,
		Run:         checkResponderRole})
	r.Register(Check{ID: "readiness.memory-reachability", Family: "readiness", Title: "Running instances are reachable for memory capture", Severity: Medium, Scope: Regional,
		Description: "Each running instance has a security group allowing tcp/22 from somewhere (an examiner network or a bastion). " + needsSSH,
		Run:         checkReachability})
}

func checkResponderRole(ctx context.Context, env *Env, _ string) []Result {
	name := env.ResponderRole
	if name == "" {
		name = DefaultResponderRole
	}
	out, err := env.IAM().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if awsapi.Code(err) == "NoSuchEntity" {
		return []Result{failed("role/"+name, fmt.Sprintf("no IAM role %q: %s", name, needsRole),
			fmt.Sprintf("aws iam create-role --role-name %s --assume-role-policy-document file://trust.json && "+
				"firebreak iam-policy host-compromise > policy.json && "+
				"aws iam put-role-policy --role-name %s --policy-name firebreak --policy-document file://policy.json", name, name))}
	}
	if err != nil {
		return []Result{errored("role/"+name, "iam:GetRole", err)}
	}
	return []Result{passed(aws.ToString(out.Role.Arn), fmt.Sprintf("role %q exists", name))}
}
