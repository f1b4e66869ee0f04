package awsperm

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func TestPrincipalARN(t *testing.T) {
	tests := []struct {
		name, caller, want, err string
	}{
		{"user", "arn:aws:iam::123456789012:user/responder", "arn:aws:iam::123456789012:user/responder", ""},
		{"role", "arn:aws:iam::123456789012:role/ir", "arn:aws:iam::123456789012:role/ir", ""},
		{"assumed role", "arn:aws:sts::123456789012:assumed-role/ir-responder/alice@example.com", "arn:aws:iam::123456789012:role/ir-responder", ""},
		{"assumed role, other partition", "arn:aws-us-gov:sts::123456789012:assumed-role/ir/s", "arn:aws-us-gov:iam::123456789012:role/ir", ""},
		{"federated user", "arn:aws:sts::123456789012:federated-user/bob", "", "only IAM users and roles"},
		{"no role name", "arn:aws:sts::123456789012:assumed-role/", "", "no role name"},
		{"not an arn", "responder", "", `caller "responder"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PrincipalARN(tt.caller)
			if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("got %q, %v; want %q, error holding %q", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestCheckOnMoto: moto 5.2.1 does not implement SimulatePrincipalPolicy.
// The checker must then fail (permissions not checked), never answer
// "nothing denied".
func TestCheckOnMoto(t *testing.T) {
	m := testenv.StartMoto(t)
	ctx := testenv.Context(t)
	admin := iam.NewFromConfig(m.Config())
	// A real IAM user with its own key, so the caller is an IAM principal
	// moto knows (its default identity is not one).
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("responder")}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("responder")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	c := New(iam.NewFromConfig(cfg), sts.NewFromConfig(cfg))
	denied, err := c.Check(ctx, []string{"ec2:CreateSnapshots", "iam:UpdateAccessKey"})
	t.Logf("denied %v, err %v", denied, err)
	if err == nil {
		t.Fatalf("got denied %v and no error; want an error saying the endpoint does not answer the simulation", denied)
	}
	if want := "iam:SimulatePrincipalPolicy is not answered by this endpoint"; !strings.Contains(err.Error(), want) {
		t.Errorf("got %q, want it to hold %q", err, want)
	}
}
