package assess

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Env is what checks read the account through: one SDK seam a service (the
// SDK's clients satisfy them as they are), the options, and lookups that
// several checks share (the bucket list, the user list, the trails), made
// once. Use one Env for one Assess; it is safe for the concurrent checks of
// that run.
type Env struct {
	S3         func(region string) S3API
	IAM        func() IAMAPI
	EC2        func(region string) EC2API
	CloudTrail func(region string) CloudTrailAPI
	GuardDuty  func(region string) GuardDutyAPI

	// HomeRegion is where account-wide calls go (IAM, ListBuckets).
	HomeRegion string
	// EvidenceBucket names the evidence bucket; empty: the bucket tagged
	// firebreak:evidence=true.
	EvidenceBucket string
	// ResponderRole is the IAM role responders assume.
	ResponderRole string
	// Fanout bounds the calls one check makes at once over many resources.
	Fanout int
	// Now is the clock for age checks.
	Now func() time.Time

	regions []string // the run's regions, set by Assess

	buckets memo[[]bucket]
	users   memo[[]*user]
	trails  memo[[]cttypes.Trail]
}

// DefaultResponderRole is the role name readiness.responder-role looks for.
const DefaultResponderRole = "firebreak-responder"

// NewEnv returns an Env over c's clients.
func NewEnv(c *awsapi.Clients) *Env {
	var gdMu sync.Mutex
	gd := map[string]*guardduty.Client{}
	return &Env{
		S3:         func(r string) S3API { return c.S3(r) },
		IAM:        func() IAMAPI { return c.IAM() },
		EC2:        func(r string) EC2API { return c.EC2(r) },
		CloudTrail: func(r string) CloudTrailAPI { return c.CloudTrail(r) },
		GuardDuty: func(r string) GuardDutyAPI {
			// awsapi has no GuardDuty client; keep one a region here.
			gdMu.Lock()
			defer gdMu.Unlock()
			if cl, ok := gd[r]; ok {
				return cl
			}
			cfg := c.Config().Copy()
			cfg.Region = c.Region(r)
			gd[r] = guardduty.NewFromConfig(cfg)
			return gd[r]
		},
		HomeRegion:    c.Region(""),
		ResponderRole: DefaultResponderRole,
		Fanout:        8,
		Now:           time.Now,
	}
}

// memo computes a value once and hands it to every caller.
type memo[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (m *memo[T]) get(f func() (T, error)) (T, error) {
	m.once.Do(func() { m.v, m.err = f() })
	return m.v, m.err
}

// S3API is what the S3 checks call; *s3.Client has it.
type S3API interface {
	ListBuckets(ctx context.Context, in *s3.ListBucketsInput, opts ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
	GetBucketLocation(ctx context.Context, in *s3.GetBucketLocationInput, opts ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error)
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, opts ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	GetBucketLogging(ctx context.Context, in *s3.GetBucketLoggingInput, opts ...func(*s3.Options)) (*s3.GetBucketLoggingOutput, error)
	GetBucketAcl(ctx context.Context, in *s3.GetBucketAclInput, opts ...func(*s3.Options)) (*s3.GetBucketAclOutput, error)
	GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, opts ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, opts ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	GetObjectLockConfiguration(ctx context.Context, in *s3.GetObjectLockConfigurationInput, opts ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error)
	GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, opts ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
}

// IAMAPI is what the IAM checks call; *iam.Client has it.
type IAMAPI interface {
	GetAccountSummary(ctx context.Context, in *iam.GetAccountSummaryInput, opts ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	ListUsers(ctx context.Context, in *iam.ListUsersInput, opts ...func(*iam.Options)) (*iam.ListUsersOutput, error)
	GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, opts ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, opts ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, opts ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, opts ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput, opts ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, opts ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)
	ListAttachedGroupPolicies(ctx context.Context, in *iam.ListAttachedGroupPoliciesInput, opts ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)
	GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// EC2API is what the VPC, EBS and reachability checks call; *ec2.Client has it.
type EC2API interface {
	DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
	DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput, opts ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	DescribeFlowLogs(ctx context.Context, in *ec2.DescribeFlowLogsInput, opts ...func(*ec2.Options)) (*ec2.DescribeFlowLogsOutput, error)
	GetEbsEncryptionByDefault(ctx context.Context, in *ec2.GetEbsEncryptionByDefaultInput, opts ...func(*ec2.Options)) (*ec2.GetEbsEncryptionByDefaultOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
}

// CloudTrailAPI is what the CloudTrail checks call; *cloudtrail.Client has it.
type CloudTrailAPI interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
}

// GuardDutyAPI is what the GuardDuty check calls; *guardduty.Client has it.
type GuardDutyAPI interface {
	ListDetectors(ctx context.Context, in *guardduty.ListDetectorsInput, opts ...func(*guardduty.Options)) (*guardduty.ListDetectorsOutput, error)
	GetDetector(ctx context.Context, in *guardduty.GetDetectorInput, opts ...func(*guardduty.Options)) (*guardduty.GetDetectorOutput, error)
}
