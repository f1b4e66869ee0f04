package ec2

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// TestKMSPermissionsDeclared: copying a snapshot into a customer managed
// key, and creating a volume from such a snapshot, need the caller's KMS
// permissions on the key; iam-policy must grant them.
func TestKMSPermissionsDeclared(t *testing.T) {
	r := engine.NewRegistry()
	Register(r, awsapi.NewClients(aws.Config{Region: "us-east-1"}))
	want := []string{"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"}
	for _, name := range []string{"snapshot", "create-workstation"} {
		a, ok := r.Lookup(name)
		if !ok {
			t.Fatalf("%q not registered", name)
		}
		for _, p := range want {
			if !slices.Contains(a.Spec().Permissions, p) {
				t.Errorf("%s permissions: no %s in %v", name, p, a.Spec().Permissions)
			}
		}
	}
}
