package ec2

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestIsolateRefusesToRevokeTheRunsOwnRole: a run acting as the instance's
// role (assume-role on moto) would cut itself off; the revoke part fails
// with revoke-sessions' message and the role keeps no deny, unless force.
func TestIsolateRefusesToRevokeTheRunsOwnRole(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	as, err := sts.NewFromConfig(hw.moto.Config()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(hw.w.RoleARN), RoleSessionName: aws.String("responder")})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	cfg := hw.moto.Config()
	c := as.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	a := &isolate{apis: clientAPIs(awsapi.NewClients(cfg)), region: hw.clients.Region, now: hw.isolateAction().now}

	out, _, err := hostRun(ctx, a, "cr-self", "isolate", engine.Params{"instance_id": hw.w.InstanceID, "revoke_sessions": true})
	want := "whose own session this would revoke: run as another principal, or set force: true"
	if err == nil || !strings.Contains(err.Error(), "revoke-sessions: the run acts as ") || !strings.Contains(err.Error(), want) {
		t.Fatalf("isolate as the instance's role: got %v, want the revoke-sessions part refused", err)
	}
	if got := out["substeps"].(map[string]any)["security-groups"]; got != "done" {
		t.Errorf("substeps[security-groups]: got %v, want done (the refusal stops no other part)", got)
	}
	_, gerr := hw.check.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(hw.w.RoleName), PolicyName: aws.String(revokePolicyName)})
	if !awsapi.IsNotFound(gerr) {
		t.Fatalf("revoke policy on the run's own role after refusal: GetRolePolicy err %v, want NoSuchEntity", gerr)
	}
	if _, _, err := hostRun(ctx, a, "cr-self", "isolate", engine.Params{"instance_id": hw.w.InstanceID, "revoke_sessions": true, "force": true}); err != nil {
		t.Fatalf("isolate with force: %v", err)
	}
	hw.assertRevoked(t, ctx)
}
