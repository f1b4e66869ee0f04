package testenv

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestStartMotoAnswersSTS(t *testing.T) {
	m := StartMoto(t)
	out, err := sts.NewFromConfig(m.Config()).GetCallerIdentity(Context(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity against moto: %v", err)
	}
	if out.Account == nil || *out.Account == "" {
		t.Fatalf("GetCallerIdentity: got no account, want moto's default")
	}
}
