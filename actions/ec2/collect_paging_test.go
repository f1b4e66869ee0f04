package ec2

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// noLatest refuses GetConsoleOutput with Latest, as instance types without
// it do, and counts the calls.
type noLatest struct {
	collectEC2
	latest, plain int
}

func (f *noLatest) GetConsoleOutput(ctx context.Context, in *ec2.GetConsoleOutputInput, o ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error) {
	if aws.ToBool(in.Latest) {
		f.latest++
		return nil, &smithy.GenericAPIError{Code: "UnsupportedOperation", Message: "latest console output is not supported"}
	}
	f.plain++
	return f.collectEC2.GetConsoleOutput(ctx, in, o...)
}

// pagedIAM answers each List* call one item a page, as IAM does past
// MaxItems.
type pagedIAM struct{ collectIAM }

func (f pagedIAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	all, err := f.collectIAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: in.RoleName}, o...)
	if err != nil {
		return nil, err
	}
	i := len(aws.ToString(in.Marker))
	out := &iam.ListRolePoliciesOutput{PolicyNames: all.PolicyNames[i : i+1]}
	if i+1 < len(all.PolicyNames) {
		out.IsTruncated, out.Marker = true, aws.String(strings.Repeat("m", i+1))
	}
	return out, nil
}

func (f pagedIAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	all, err := f.collectIAM.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: in.RoleName}, o...)
	if err != nil {
		return nil, err
	}
	i := len(aws.ToString(in.Marker))
	out := &iam.ListAttachedRolePoliciesOutput{AttachedPolicies: all.AttachedPolicies[i : i+1]}
	if i+1 < len(all.AttachedPolicies) {
		out.IsTruncated, out.Marker = true, aws.String(strings.Repeat("m", i+1))
	}
	return out, nil
}

// TestCollectMetadataPagesIAMAndFallsBackFromLatest: every page of the
// role's policies is saved, and console output comes without Latest when
// the instance refuses it.
func TestCollectMetadataPagesIAMAndFallsBackFromLatest(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	for _, n := range []string{"extra-one", "extra-two"} {
		if _, err := hw.check.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(hw.w.RoleName), PolicyName: aws.String(n),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
	}
	f := &noLatest{collectEC2: hw.clients.EC2("")}
	a := &collectMetadata{region: hw.clients.Region, apis: func(region string) collectAPIs {
		return collectAPIs{ec2: f, iam: pagedIAM{hw.clients.IAM()}, asg: hw.clients.AutoScaling(region)}
	}}
	out, ev, err := hostRun(ctx, a, "cr-col", "gather", engine.Params{"instance_id": hw.w.InstanceID})
	if err != nil {
		t.Fatalf("collect-metadata: %v\nsubsteps: %v", err, out["substeps"])
	}
	if f.latest != 1 || f.plain != 1 || out["console_output"] == "" {
		t.Errorf("GetConsoleOutput: %d with Latest, %d without, output %q; want one each and the output", f.latest, f.plain, out["console_output"])
	}
	prof := string(object(ev, "instance-profile.json"))
	for _, want := range []string{"inline-read", "extra-one", "extra-two", hw.w.ManagedPolicyARN} {
		if !strings.Contains(prof, want) {
			t.Errorf("instance-profile.json: no %s\n%s", want, prof)
		}
	}
}
