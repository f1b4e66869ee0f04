package assess

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestVPCFlowLogsOnMoto: a VPC with a flow log passes; one without, and
// moto's default VPC, fail.
func TestVPCFlowLogsOnMoto(t *testing.T) {
	a := startAccount(t)
	api := a.clients.EC2("us-east-1")
	logged, err := api.CreateVpc(a.ctx, &ec2.CreateVpcInput{CidrBlock: str("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := api.CreateVpc(a.ctx, &ec2.CreateVpcInput{CidrBlock: str("10.2.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	noErr(t)(a.clients.S3("us-east-1").CreateBucket(a.ctx, &s3.CreateBucketInput{Bucket: str("flow-logs")}))
	fl, err := api.CreateFlowLogs(a.ctx, &ec2.CreateFlowLogsInput{ResourceType: ec2types.FlowLogsResourceTypeVpc,
		ResourceIds: []string{aws.ToString(logged.Vpc.VpcId)}, TrafficType: ec2types.TrafficTypeAll,
		LogDestinationType: ec2types.LogDestinationTypeS3, LogDestination: str("arn:aws:s3:::flow-logs")})
	if err != nil || len(fl.FlowLogIds) != 1 {
		t.Fatalf("CreateFlowLogs: got %v, %+v, want one flow log", err, fl)
	}

	rep := a.assess(t, "vpc.flow-logs")
	want(t, verdict(t, rep, "vpc.flow-logs", aws.ToString(logged.Vpc.VpcId)), Pass)
	want(t, verdict(t, rep, "vpc.flow-logs", aws.ToString(bare.Vpc.VpcId)), Fail)
	def, err := api.DescribeVpcs(a.ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: str("is-default"), Values: []string{"true"}}}})
	if err != nil || len(def.Vpcs) != 1 {
		t.Fatalf("moto's default VPC: got %v, %+v", err, def)
	}
	want(t, verdict(t, rep, "vpc.flow-logs", aws.ToString(def.Vpcs[0].VpcId)), Fail)
}

// TestEBSDefaultEncryptionOnMoto: on in one region, off (moto's default)
// in another; each region gets its own verdict.
func TestEBSDefaultEncryptionOnMoto(t *testing.T) {
	a := startAccount(t)
	noErr(t)(a.clients.EC2("us-east-1").EnableEbsEncryptionByDefault(a.ctx, &ec2.EnableEbsEncryptionByDefaultInput{}))
	rep := a.assess(t, "ebs.*", "eu-west-1", "us-east-1")
	for region, status := range map[string]Status{"us-east-1": Pass, "eu-west-1": Fail} {
		r := resultIn(t, rep, "ebs.default-encryption", region)
		want(t, r, status)
	}
}

// TestGuardDutyOnMoto: an enabled detector passes, no detector fails, a
// disabled detector fails.
func TestGuardDutyOnMoto(t *testing.T) {
	a := startAccount(t)
	gd := func(region string) *guardduty.Client { return a.env().GuardDuty(region).(*guardduty.Client) }
	noErr(t)(gd("us-east-1").CreateDetector(a.ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true)}))
	noErr(t)(gd("us-west-2").CreateDetector(a.ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(false)}))
	rep := a.assess(t, "guardduty.*", "eu-west-1", "us-east-1", "us-west-2")
	for region, status := range map[string]Status{"us-east-1": Pass, "eu-west-1": Fail, "us-west-2": Fail} {
		want(t, resultIn(t, rep, "guardduty.enabled", region), status)
	}
}

// resultIn finds the one result of check in region.
func resultIn(t *testing.T, rep *Report, check, region string) Result {
	t.Helper()
	var found []Result
	for _, r := range rep.Results {
		if r.CheckID == check && r.Region == region {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s in %s: got %d results, want 1: %+v", check, region, len(found), rep.Results)
	}
	return found[0]
}
