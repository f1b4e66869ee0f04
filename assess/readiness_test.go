package assess

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestEvidenceBucketOnMoto: no tagged bucket fails; a tagged bucket with
// versioning, encryption, Block Public Access and Object Lock passes; a
// named bucket lacking them fails and says which; a named bucket that does
// not exist fails.
func TestEvidenceBucketOnMoto(t *testing.T) {
	a := startAccount(t)
	api := a.clients.S3("us-east-1")
	ok := noErr(t)
	ok(api.CreateBucket(a.ctx, &s3.CreateBucketInput{Bucket: str("weak")}))
	ok(api.PutBucketTagging(a.ctx, &s3.PutBucketTaggingInput{Bucket: str("weak"), Tagging: &types.Tagging{TagSet: []types.Tag{{Key: str("team"), Value: str("ir")}}}}))

	check := func(name, bucket string, status Status, reason string) {
		t.Run(name, func(t *testing.T) {
			env := a.env()
			env.EvidenceBucket = bucket
			rep := a.assessEnv(t, env, "readiness.evidence-bucket")
			r := verdict(t, rep, "readiness.evidence-bucket", "")
			want(t, r, status)
			if !strings.Contains(r.Reason, reason) {
				t.Errorf("reason: got %q, want it to contain %q", r.Reason, reason)
			}
		})
	}
	check("nothing tagged", "", Fail, "no bucket is tagged firebreak:evidence=true")
	check("named, missing", "nope", Fail, `bucket "nope" does not exist`)
	check("named, weak", "weak", Fail, "lacks versioning, default encryption, Block Public Access, Object Lock")

	ok(api.CreateBucket(a.ctx, &s3.CreateBucketInput{Bucket: str("evidence"), ObjectLockEnabledForBucket: aws.Bool(true)}))
	ok(api.PutBucketVersioning(a.ctx, &s3.PutBucketVersioningInput{Bucket: str("evidence"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))
	ok(api.PutBucketEncryption(a.ctx, &s3.PutBucketEncryptionInput{Bucket: str("evidence"), ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
		Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}}}}))
	ok(api.PutPublicAccessBlock(a.ctx, &s3.PutPublicAccessBlockInput{Bucket: str("evidence"), PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}))
	ok(api.PutBucketTagging(a.ctx, &s3.PutBucketTaggingInput{Bucket: str("evidence"), Tagging: &types.Tagging{TagSet: []types.Tag{{Key: str(EvidenceTag), Value: str("true")}}}}))
	check("tagged, hardened", "", Pass, "all on")
	check("named, hardened", "evidence", Pass, "all on")
}

// TestResponderRoleOnMoto: absent fails and names the playbook steps at
// stake; present passes; the name is an option.
func TestResponderRoleOnMoto(t *testing.T) {
	a := startAccount(t)
	rep := a.assess(t, "readiness.responder-role")
	r := verdict(t, rep, "readiness.responder-role", "role/firebreak-responder")
	want(t, r, Fail)
	if !strings.Contains(r.Reason, "host-compromise") {
		t.Errorf("reason: got %q, want the playbook steps at stake", r.Reason)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	for _, n := range []string{"firebreak-responder", "ir-team"} {
		noErr(t)(a.clients.IAM().CreateRole(a.ctx, &iam.CreateRoleInput{RoleName: str(n), AssumeRolePolicyDocument: str(trust)}))
	}
	want(t, verdict(t, a.assess(t, "readiness.responder-role"), "readiness.responder-role", "role/firebreak-responder"), Pass)
	env := a.env()
	env.ResponderRole = "ir-team"
	want(t, verdict(t, a.assessEnv(t, env, "readiness.responder-role"), "readiness.responder-role", "role/ir-team"), Pass)
	env = a.env()
	env.ResponderRole = "absent"
	want(t, verdict(t, a.assessEnv(t, env, "readiness.responder-role"), "readiness.responder-role", "role/absent"), Fail)
}

// TestMemoryReachabilityOnMoto: an instance whose group allows tcp/22
// passes; one whose group allows only 443 fails and names the memory step.
func TestMemoryReachabilityOnMoto(t *testing.T) {
	a := startAccount(t)
	api := a.clients.EC2("us-east-1")
	ssh := newGroup(t, a, "ssh", 22, 22)
	web := newGroup(t, a, "web", 443, 443)
	reach := launch(t, a, ssh)
	dark := launch(t, a, web)
	rep := a.assess(t, "readiness.memory-reachability")
	want(t, verdict(t, rep, "readiness.memory-reachability", reach), Pass)
	r := verdict(t, rep, "readiness.memory-reachability", dark)
	want(t, r, Fail)
	if !strings.Contains(r.Reason, "capture-memory") {
		t.Errorf("reason: got %q, want the capture-memory step named", r.Reason)
	}
	noErr(t)(api.TerminateInstances(a.ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{reach, dark}}))
	want(t, verdict(t, a.assess(t, "readiness.memory-reachability"), "readiness.memory-reachability", "instances"), Pass)
}

func newGroup(t *testing.T, a *account, name string, from, to int32) string {
	t.Helper()
	api := a.clients.EC2("us-east-1")
	g, err := api.CreateSecurityGroup(a.ctx, &ec2.CreateSecurityGroupInput{GroupName: str(name), Description: str(name)})
	if err != nil {
		t.Fatal(err)
	}
	noErr(t)(api.AuthorizeSecurityGroupIngress(a.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: str("tcp"), FromPort: aws.Int32(from), ToPort: aws.Int32(to),
			IpRanges: []ec2types.IpRange{{CidrIp: str("198.51.100.0/24")}}}}}))
	return aws.ToString(g.GroupId)
}

func launch(t *testing.T, a *account, group string) string {
	t.Helper()
	api := a.clients.EC2("us-east-1")
	imgs, err := api.DescribeImages(a.ctx, &ec2.DescribeImagesInput{})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("DescribeImages: %v", err)
	}
	run, err := api.RunInstances(a.ctx, &ec2.RunInstancesInput{ImageId: imgs.Images[0].ImageId, InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SecurityGroupIds: []string{group}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(run.Instances[0].InstanceId)
}
