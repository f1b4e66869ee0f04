package awsfixture

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Library is the world of the finding families beyond EC2, with the names
// the findings in the repository's testdata give (findings/testdata), so
// a run from one of those findings acts on it: a bucket read out by an
// assumed role, a stopped trail, a role whose session was stolen, a Lambda
// function beaconing out, an RDS instance logged into by brute force.
type Library struct {
	Bucket, LogBucket string // payments-exports (its own policy, a public-read ACL, versions); access-logs
	BucketPolicy      string
	Trail, TrailARN   string // org-audit: stopped, single-region, no validation, no management events
	TrailActorRole    string // ops-admin: the role that stopped it
	StolenRole        string // ci-deploy-role
	Function          string // invoice-render: reserved concurrency 5, a public URL, a grant to another account
	FunctionARN       string
	FunctionRole      string // invoice-render-role
	DBInstance        string // orders-db: publicly accessible in two groups
	DBGroups          []string
}

// LibraryBucketPolicy is the bucket's own policy.
const LibraryBucketPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"PartnerRead","Effect":"Allow",` +
	`"Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::payments-exports/*"}]}`

// BuildLibrary makes the whole library world on cfg's endpoint. Its names
// are fixed (the findings name them): one world a server.
func BuildLibrary(ctx context.Context, cfg aws.Config) (*Library, error) {
	l := &Library{Bucket: "payments-exports", LogBucket: "access-logs", BucketPolicy: LibraryBucketPolicy, Trail: "org-audit",
		TrailActorRole: "ops-admin", StolenRole: "ci-deploy-role", Function: "invoice-render", FunctionRole: "invoice-render-role", DBInstance: "orders-db"}
	for _, step := range []func(context.Context, aws.Config) error{l.buildBucket, l.buildTrail, l.buildRoles, l.buildFunction, l.buildDB} {
		if err := step(ctx, cfg); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func (l *Library) buildBucket(ctx context.Context, cfg aws.Config) error {
	api := s3Client(cfg)
	b := aws.String(l.Bucket)
	steps := []func() error{
		func() error { _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); return err },
		func() error {
			_, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(l.LogBucket)})
			return err
		},
		func() error {
			_, err := api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(l.BucketPolicy)})
			return err
		},
		func() error {
			_, err := api.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b,
				OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}})
			return err
		},
		func() error {
			_, err := api.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: s3types.BucketCannedACLPublicRead})
			return err
		},
		func() error {
			_, err := api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b,
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}}})
			return err
		},
		func() error {
			_, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("exports/2026-11.csv"), Body: strings.NewReader("id,amount\n1,100\n")})
			return err
		},
	}
	return run("bucket "+l.Bucket, steps)
}

func run(what string, steps []func() error) error {
	for i, s := range steps {
		if err := s(); err != nil {
			return fmt.Errorf("building %s (step %d): %w", what, i+1, err)
		}
	}
	return nil
}

func (l *Library) buildTrail(ctx context.Context, cfg aws.Config) error {
	ct := cloudtrail.NewFromConfig(cfg)
	name := aws.String(l.Trail)
	steps := []func() error{
		func() error {
			_, err := s3Client(cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("audit-logs-" + l.Trail)})
			return err
		},
		func() error {
			out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: name, S3BucketName: aws.String("audit-logs-" + l.Trail),
				IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true)})
			if err == nil {
				l.TrailARN = aws.ToString(out.TrailARN)
			}
			return err
		},
		func() error { _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: name}); return err },
		// What the attacker did.
		func() error { _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: name}); return err },
		func() error {
			_, err := ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: name, IsMultiRegionTrail: aws.Bool(false), EnableLogFileValidation: aws.Bool(false)})
			return err
		},
		func() error {
			_, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: name,
				EventSelectors: []cttypes.EventSelector{{IncludeManagementEvents: aws.Bool(false), ReadWriteType: cttypes.ReadWriteTypeReadOnly}}})
			return err
		},
	}
	return run("trail "+l.Trail, steps)
}

const accountTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`

func (l *Library) buildRoles(ctx context.Context, cfg aws.Config) error {
	api := iam.NewFromConfig(cfg)
	for _, r := range []string{l.TrailActorRole, l.StolenRole} {
		if _, err := api.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(accountTrust)}); err != nil {
			return fmt.Errorf("building role %s: %w", r, err)
		}
	}
	return nil
}

func (l *Library) buildFunction(ctx context.Context, cfg aws.Config) error {
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(l.FunctionRole),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		return fmt.Errorf("building role %s: %w", l.FunctionRole, err)
	}
	var code bytes.Buffer
	z := zip.NewWriter(&code)
	w, _ := z.Create("index.py")
	_, _ = w.Write([]byte("def handler(event, context):\n    return 'beacon'\n"))
	if err := z.Close(); err != nil {
		return err
	}
	api := lambda.NewFromConfig(cfg)
	fn := aws.String(l.Function)
	steps := []func() error{
		func() error {
			out, err := api.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: fn, Runtime: lambdatypes.RuntimePython312, Role: role.Role.Arn,
				Handler: aws.String("index.handler"), Code: &lambdatypes.FunctionCode{ZipFile: code.Bytes()}, Tags: map[string]string{"app": "billing"}})
			if err == nil {
				l.FunctionARN = aws.ToString(out.FunctionArn)
			}
			return err
		},
		func() error {
			_, err := api.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: fn, ReservedConcurrentExecutions: aws.Int32(5)})
			return err
		},
		func() error {
			_, err := api.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: fn, AuthType: lambdatypes.FunctionUrlAuthTypeNone})
			return err
		},
		func() error {
			_, err := api.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: fn, StatementId: aws.String("FunctionURLAllowPublicAccess"),
				Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"), FunctionUrlAuthType: lambdatypes.FunctionUrlAuthTypeNone})
			return err
		},
		func() error {
			_, err := api.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: fn, StatementId: aws.String("partner"),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("arn:aws:iam::999988887777:root")})
			return err
		},
	}
	return run("function "+l.Function, steps)
}

func (l *Library) buildDB(ctx context.Context, cfg aws.Config) error {
	e := ec2.NewFromConfig(cfg)
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		return fmt.Errorf("building the database's VPC: %w", err)
	}
	vpcID := vpc.Vpc.VpcId
	var subnets []string
	for i, az := range []string{"a", "b"} {
		s, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String(fmt.Sprintf("10.9.%d.0/24", i+1)),
			AvailabilityZone: aws.String(cfg.Region + az)})
		if err != nil {
			return fmt.Errorf("building the database's subnets: %w", err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	for _, name := range []string{"orders-db", "orders-admin"} {
		g, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: vpcID})
		if err != nil {
			return fmt.Errorf("building the database's groups: %w", err)
		}
		l.DBGroups = append(l.DBGroups, aws.ToString(g.GroupId))
	}
	api := rds.NewFromConfig(cfg)
	if _, err := api.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("orders"),
		DBSubnetGroupDescription: aws.String("orders"), SubnetIds: subnets}); err != nil {
		return fmt.Errorf("building the database's subnet group: %w", err)
	}
	_, err = api.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(l.DBInstance), DBInstanceClass: aws.String("db.t3.micro"),
		Engine: aws.String("postgres"), MasterUsername: aws.String("app_admin"), MasterUserPassword: aws.String("example-password-1"),
		AllocatedStorage: aws.Int32(20), DBSubnetGroupName: aws.String("orders"), VpcSecurityGroupIds: l.DBGroups, PubliclyAccessible: aws.Bool(true),
		Tags: []rdstypes.Tag{{Key: aws.String("app"), Value: aws.String("orders")}}})
	if err != nil {
		return fmt.Errorf("building DB instance %s: %w", l.DBInstance, err)
	}
	return nil
}
