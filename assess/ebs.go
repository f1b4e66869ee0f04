package assess

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

func registerEBS(r *Registry) {
	r.Register(Check{ID: "ebs.default-encryption", Family: "ebs", Title: "EBS encryption by default is on", Severity: Medium, Scope: Regional,
		Description: "With encryption by default, every new volume and snapshot in the region is encrypted, forensic copies included.",
		Run:         checkEBSDefault})
}

func checkEBSDefault(ctx context.Context, env *Env, region string) []Result {
	res := "ebs-encryption-by-default"
	out, err := env.EC2(region).GetEbsEncryptionByDefault(ctx, &ec2.GetEbsEncryptionByDefaultInput{})
	if err != nil {
		return []Result{errored(res, "ec2:GetEbsEncryptionByDefault", err)}
	}
	if aws.ToBool(out.EbsEncryptionByDefault) {
		return []Result{passed(res, "new EBS volumes are encrypted by default")}
	}
	return []Result{failed(res, "new EBS volumes are not encrypted by default",
		fmt.Sprintf("aws ec2 enable-ebs-encryption-by-default --region %s", region))}
}
