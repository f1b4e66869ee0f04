package ec2

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/revoke"
)

// revokePolicyName is the inline policy that denies every session of a
// role issued before isolation. One fixed name, shared with
// revoke-sessions and disable-key: a rerun replaces it.
const revokePolicyName = revoke.PolicyName

// profileAssociation returns the instance's active profile association id.
func profileAssociation(ctx context.Context, api isolateEC2, id string) (string, string, error) {
	out, err := api.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{id}}},
	})
	if err != nil {
		return "", "", fmt.Errorf("reading the instance profile association of %q: %w", id, awsapi.Classify(err))
	}
	for _, a := range out.IamInstanceProfileAssociations {
		if a.State == types.IamInstanceProfileAssociationStateAssociated || a.State == types.IamInstanceProfileAssociationStateAssociating {
			arn := ""
			if a.IamInstanceProfile != nil {
				arn = aws.ToString(a.IamInstanceProfile.Arn)
			}
			return aws.ToString(a.AssociationId), arn, nil
		}
	}
	return "", "", nil
}

// settled reports whether a call that failed because the association was
// not found left the instance as wanted anyway (want: "" for no profile).
// That is what the SDK's own retry of a call whose answer was lost after
// EC2 acted on it (a dropped connection) sees: the association the first
// attempt removed or replaced is gone.
func settled(ctx context.Context, api isolateEC2, id, want string, err error) bool {
	if !awsapi.IsNotFound(err) {
		return false
	}
	_, current, rerr := profileAssociation(ctx, api, id)
	return rerr == nil && (current == want || want != "" && strings.HasSuffix(current, "/"+want))
}

// swapProfile removes the instance's profile, or replaces it with
// replacement (a name or an ARN), so the host's stolen role credentials
// cannot be renewed. Nothing is done when it already holds what is wanted.
func swapProfile(ctx context.Context, api isolateEC2, ev engine.Evidence, id, replacement string) error {
	assoc, current, err := profileAssociation(ctx, api, id)
	if err != nil {
		return err
	}
	spec := &types.IamInstanceProfileSpecification{Name: aws.String(replacement)}
	if strings.HasPrefix(replacement, "arn:") {
		spec = &types.IamInstanceProfileSpecification{Arn: aws.String(replacement)}
	}
	switch {
	case replacement == "" && assoc == "":
		return nil
	case replacement == "":
		if _, err := api.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: aws.String(assoc)}); err != nil && !settled(ctx, api, id, "", err) {
			return fmt.Errorf("removing instance profile %q from %q: %w", current, id, awsapi.Classify(err))
		}
		return awsapi.Change(ctx, ev, "ec2:DisassociateIamInstanceProfile", map[string]any{"instance_id": id, "profile": current})
	case current == replacement || strings.HasSuffix(current, "/"+replacement):
		return nil
	case assoc == "":
		if _, err := api.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(id), IamInstanceProfile: spec}); err != nil {
			return fmt.Errorf("giving %q instance profile %q: %w", id, replacement, awsapi.Classify(err))
		}
		return awsapi.Change(ctx, ev, "ec2:AssociateIamInstanceProfile", map[string]any{"instance_id": id, "profile": replacement})
	default:
		if _, err := api.ReplaceIamInstanceProfileAssociation(ctx, &ec2.ReplaceIamInstanceProfileAssociationInput{AssociationId: aws.String(assoc), IamInstanceProfile: spec}); err != nil && !settled(ctx, api, id, replacement, err) {
			return fmt.Errorf("replacing instance profile %q of %q with %q: %w", current, id, replacement, awsapi.Classify(err))
		}
		return awsapi.Change(ctx, ev, "ec2:ReplaceIamInstanceProfileAssociation", map[string]any{"instance_id": id, "from": current, "to": replacement})
	}
}

// revokeOlderSessions puts a deny-all inline policy on every role of the
// profile for sessions issued before now: credentials already taken from
// the host stop working, while new sessions (other instances of the same
// role, after their next credential refresh) are not affected. It returns
// the roles changed. A role the run itself acts as (callerARN, "" when
// not checked) is refused as revoke-sessions refuses it: the deny would
// cut the run off.
func revokeOlderSessions(ctx context.Context, api isolateIAM, ev engine.Evidence, profileARN string, now time.Time, callerARN string) ([]string, error) {
	name := profileARN[strings.LastIndex(profileARN, "/")+1:]
	out, err := api.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("reading instance profile %q: %w", name, awsapi.Classify(err))
	}
	var roles []string
	for _, r := range out.InstanceProfile.Roles {
		role := aws.ToString(r.RoleName)
		if callerARN != "" && revoke.ActsAsRole(callerARN, role) {
			return roles, revoke.OwnSessionError(callerARN)
		}
		if err := revoke.Role(ctx, api, ev, role, now); err != nil {
			return roles, err
		}
		roles = append(roles, role)
	}
	return roles, nil
}
