// Package rds holds the actions for a compromised RDS database instance:
// contain-db (a snapshot, tagged and waited for, and the configuration
// recorded; then not publicly accessible, and its security groups swapped
// for an isolation group) and release-db (undo that from the recorded
// state).
package rds

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Register adds contain-db and release-db to r, sharing c's clients.
func Register(r *engine.Registry, c *awsapi.Clients) {
	apis := func(region string) dbAPIs { return dbAPIs{rds: c.RDS(region), ec2: c.EC2(region)} }
	r.Register(&containDB{apis: apis, region: c.Region, sleep: sleepCtx, poll: 15 * time.Second})
	r.Register(&releaseDB{apis: apis, region: c.Region})
}

// dbGrant narrows the RDS changes to DB instances and the case's
// snapshots (named firebreak-CASE-DB); the Describe calls take "*".
func dbGrant(actions ...string) []engine.Grant {
	return []engine.Grant{{Statement: "RDSInstancesAndCaseSnapshots", Actions: actions,
		Resource: []string{"arn:aws:rds:*:*:db:*", "arn:aws:rds:*:*:snapshot:firebreak-*"}}}
}

// dbAPIs are the clients of one region.
type dbAPIs struct {
	rds rdsAPI
	ec2 groupAPI
}

// rdsAPI is what the actions need from RDS; *rds.Client has it.
type rdsAPI interface {
	DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, opts ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	DescribeDBSnapshots(ctx context.Context, in *rds.DescribeDBSnapshotsInput, opts ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error)
	CreateDBSnapshot(ctx context.Context, in *rds.CreateDBSnapshotInput, opts ...func(*rds.Options)) (*rds.CreateDBSnapshotOutput, error)
	ModifyDBInstance(ctx context.Context, in *rds.ModifyDBInstanceInput, opts ...func(*rds.Options)) (*rds.ModifyDBInstanceOutput, error)
	AddTagsToResource(ctx context.Context, in *rds.AddTagsToResourceInput, opts ...func(*rds.Options)) (*rds.AddTagsToResourceOutput, error)
	RemoveTagsFromResource(ctx context.Context, in *rds.RemoveTagsFromResourceInput, opts ...func(*rds.Options)) (*rds.RemoveTagsFromResourceOutput, error)
}

// groupAPI is what contain-db needs from EC2 for its isolation group;
// *ec2.Client has it.
type groupAPI interface {
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	CreateSecurityGroup(ctx context.Context, in *ec2.CreateSecurityGroupInput, opts ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	RevokeSecurityGroupEgress(ctx context.Context, in *ec2.RevokeSecurityGroupEgressInput, opts ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
	RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, opts ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
