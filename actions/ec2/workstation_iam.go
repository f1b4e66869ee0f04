package ec2

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// evidencePolicyName is the workstation role's one inline policy.
const evidencePolicyName = "firebreak-read-evidence"

const ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// ensureEvidenceProfile makes (or finds, by name) the role and instance
// profile "firebreak-workstation-CASE" whose only right is to read the
// evidence bucket. No bucket, no profile: "" is returned.
func ensureEvidenceProfile(ctx context.Context, api workstationIAM, ev engine.Evidence, caseID, bucket string) (string, error) {
	if bucket == "" {
		return "", nil
	}
	name := "firebreak-workstation-" + caseID
	if err := ensureWorkstationRole(ctx, api, ev, name, bucket); err != nil {
		return "", err
	}
	prof, err := api.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if awsapi.IsNotFound(err) {
		if _, err = api.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}); err == nil {
			err = awsapi.Change(ctx, ev, "iam:CreateInstanceProfile", map[string]any{"instance_profile": name})
			prof = &iam.GetInstanceProfileOutput{}
		}
	}
	if err != nil {
		return "", fmt.Errorf("making instance profile %q: %w", name, awsapi.Classify(err))
	}
	if prof.InstanceProfile != nil && len(prof.InstanceProfile.Roles) > 0 {
		return name, nil
	}
	if _, err := api.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)}); err != nil {
		return "", fmt.Errorf("putting role %q in instance profile %q: %w", name, name, awsapi.Classify(err))
	}
	return name, awsapi.Change(ctx, ev, "iam:AddRoleToInstanceProfile", map[string]any{"instance_profile": name, "role": name})
}

func ensureWorkstationRole(ctx context.Context, api workstationIAM, ev engine.Evidence, name, bucket string) error {
	_, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if awsapi.IsNotFound(err) {
		_, err = api.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(ec2Trust),
			Description: aws.String("firebreak forensic workstation: reads the evidence bucket, nothing else")})
		if err == nil {
			err = awsapi.Change(ctx, ev, "iam:CreateRole", map[string]any{"role": name})
		}
	}
	if err != nil {
		return fmt.Errorf("making role %q: %w", name, awsapi.Classify(err))
	}
	doc, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{"Effect": "Allow", "Action": []string{"s3:ListBucket", "s3:GetBucketLocation"}, "Resource": "arn:aws:s3:::" + bucket},
			map[string]any{"Effect": "Allow", "Action": []string{"s3:GetObject", "s3:GetObjectVersion"}, "Resource": "arn:aws:s3:::" + bucket + "/*"},
		},
	})
	if err != nil {
		return err
	}
	// Put every time: a rerun with another bucket moves the right to it.
	if _, err := api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(evidencePolicyName), PolicyDocument: aws.String(string(doc))}); err != nil {
		return fmt.Errorf("letting role %q read bucket %q: %w", name, bucket, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, ev, "iam:PutRolePolicy", map[string]any{"role": name, "policy": evidencePolicyName, "bucket": bucket})
}
