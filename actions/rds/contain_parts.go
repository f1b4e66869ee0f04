package rds

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// dbContainment is one contain-db run.
type dbContainment struct {
	a        *containDB
	p        containDBParams
	in       *engine.StepInput
	api      dbAPIs
	region   string
	parts    *awsapi.Parts
	db       types.DBInstance
	tags     map[string]string
	state    *dbState
	snapshot string
	group    string
}

func (c *dbContainment) read(ctx context.Context) error {
	db, err := describeDB(ctx, c.api.rds, c.p.DBInstanceID)
	if err != nil {
		return err
	}
	if cl := aws.ToString(db.DBClusterIdentifier); cl != "" {
		return fmt.Errorf("DB instance %q belongs to cluster %q: an Aurora cluster's security groups are the cluster's, and contain-db does not contain clusters; contain the cluster by hand (its snapshot, ModifyDBCluster)", c.p.DBInstanceID, cl)
	}
	if db.DBSubnetGroup == nil || aws.ToString(db.DBSubnetGroup.VpcId) == "" {
		return fmt.Errorf("DB instance %q is not in a VPC: there is no security group to swap", c.p.DBInstanceID)
	}
	c.db, c.tags = db, tagMap(db.TagList)
	s, tagged := stateFromTags(c.tags)
	if !tagged {
		s = &dbState{PubliclyAccessible: aws.ToBool(db.PubliclyAccessible), SecurityGroups: groupIDs(db)}
	}
	s.DBInstanceID, s.ARN, s.Region = c.p.DBInstanceID, aws.ToString(db.DBInstanceArn), c.region
	c.state = s
	return nil
}

// evidence takes the snapshot and waits for it, then records the
// configuration and the state before (artifact and prev tags).
func (c *dbContainment) evidence(ctx context.Context) error {
	if c.p.Snapshot {
		if err := c.takeSnapshot(ctx); err != nil {
			return err
		}
	}
	rec := map[string]any{"db_instance": c.db, "state": c.state, "snapshot_id": c.snapshot}
	if _, err := awsapi.PutJSON(ctx, c.in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName("pre-containment-state", ".json", c.in),
		Kind: "db-instance-state", Source: map[string]string{"db_instance_id": c.p.DBInstanceID, "region": c.region}}, rec); err != nil {
		return err
	}
	return c.tag(ctx)
}

// takeSnapshot finds the case's snapshot of the instance or makes it,
// then waits until it is available and records it.
func (c *dbContainment) takeSnapshot(ctx context.Context) error {
	id := snapshotID(c.in.CaseID, c.p.DBInstanceID)
	snap, found, err := findSnapshot(ctx, c.api.rds, id)
	if err != nil {
		return err
	}
	if !found {
		out, err := c.api.rds.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBSnapshotIdentifier: aws.String(id), DBInstanceIdentifier: aws.String(c.p.DBInstanceID),
			Tags: rdsTags(map[string]string{awsapi.TagCase: c.in.CaseID, awsapi.TagRole: "evidence", "firebreak:source": c.p.DBInstanceID})})
		switch {
		case awsapi.Code(err) == "DBSnapshotAlreadyExists":
			if snap, found, err = findSnapshot(ctx, c.api.rds, id); err == nil && !found {
				err = fmt.Errorf("snapshot %q exists by its create and not by its name: run the step again", id)
			}
			if err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("snapshotting DB instance %q: %w", c.p.DBInstanceID, awsapi.Classify(err))
		default:
			snap = *out.DBSnapshot
			if err := awsapi.Change(ctx, c.in.Evidence, "rds:CreateDBSnapshot", map[string]any{"db_instance_id": c.p.DBInstanceID, "snapshot_id": id}); err != nil {
				return err
			}
		}
	}
	c.snapshot = id
	if snap, err = c.wait(ctx, id, snap); err != nil {
		return err
	}
	return c.in.Evidence.Record(ctx, snapshotArtifact(c.in.StepID, c.p.DBInstanceID, snap))
}

func findSnapshot(ctx context.Context, api rdsAPI, id string) (types.DBSnapshot, bool, error) {
	out, err := api.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
	if awsapi.Code(err) == "DBSnapshotNotFound" {
		return types.DBSnapshot{}, false, nil
	}
	if err != nil {
		return types.DBSnapshot{}, false, fmt.Errorf("looking for snapshot %q: %w", id, awsapi.Classify(err))
	}
	if len(out.DBSnapshots) == 0 {
		return types.DBSnapshot{}, false, nil
	}
	return out.DBSnapshots[0], true, nil
}

// wait polls the snapshot until it is available, failing on a state it
// cannot leave or at snapshot_timeout (retryable: the snapshot goes on,
// and a rerun finds it and waits again).
func (c *dbContainment) wait(ctx context.Context, id string, snap types.DBSnapshot) (types.DBSnapshot, error) {
	deadline := time.Now().Add(c.p.SnapshotTimeout)
	for {
		switch st := aws.ToString(snap.Status); st {
		case "available":
			return snap, nil
		case "failed", "deleted", "deleting", "incompatible-restore":
			return snap, fmt.Errorf("snapshot %q is %s", id, st)
		}
		if time.Now().After(deadline) {
			return snap, engine.Retryable(fmt.Errorf("snapshot %q is still %s after %s: run the step again to keep waiting", id, aws.ToString(snap.Status), c.p.SnapshotTimeout))
		}
		if err := c.a.sleep(ctx, c.a.poll); err != nil {
			return snap, err
		}
		s, found, err := findSnapshot(ctx, c.api.rds, id)
		if err != nil {
			return snap, err
		}
		if !found {
			return snap, fmt.Errorf("snapshot %q disappeared while it was being made", id)
		}
		snap = s
	}
}

// snapshotArtifact records a DB snapshot in the manifest: by its ARN,
// instance and size; it cannot be re-hashed.
func snapshotArtifact(step, db string, s types.DBSnapshot) engine.Artifact {
	id := aws.ToString(s.DBSnapshotIdentifier)
	meta := map[string]any{"snapshot_id": id, "allocated_storage_gib": aws.ToInt32(s.AllocatedStorage), "engine": aws.ToString(s.Engine),
		"engine_version": aws.ToString(s.EngineVersion), "encrypted": aws.ToBool(s.Encrypted), "status": aws.ToString(s.Status)}
	if s.SnapshotCreateTime != nil {
		meta["create_time"] = s.SnapshotCreateTime.UTC().Format(time.RFC3339)
	}
	if k := aws.ToString(s.KmsKeyId); k != "" {
		meta["kms_key_id"] = k
	}
	return engine.Artifact{ID: id, Step: step, Kind: "db-snapshot", URI: aws.ToString(s.DBSnapshotArn), Size: int64(aws.ToInt32(s.AllocatedStorage)) << 30,
		Source: map[string]string{"db_instance_id": db, "snapshot_id": id}, Complete: aws.ToString(s.Status) == "available", Meta: meta}
}

// tag writes the case and prev tags, a prev tag only where none is.
func (c *dbContainment) tag(ctx context.Context) error {
	add := map[string]string{}
	want := c.state.prevTags()
	want[awsapi.TagCase] = c.in.CaseID
	for k, v := range want {
		if _, ok := c.tags[k]; !ok {
			add[k] = v
		}
	}
	if c.tags[awsapi.TagStatus] != "contained" {
		add[awsapi.TagStatus] = "contained"
	}
	if len(add) == 0 {
		return nil
	}
	if _, err := c.api.rds.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: aws.String(c.state.ARN), Tags: rdsTags(add)}); err != nil {
		return fmt.Errorf("recording the pre-containment state in the tags of %q: %w", c.p.DBInstanceID, awsapi.Classify(err))
	}
	return awsapi.Change(ctx, c.in.Evidence, "rds:AddTagsToResource", map[string]any{"db_instance_id": c.p.DBInstanceID, "tags": add})
}

// apply swaps the groups and closes public access in one modification,
// applied at once.
func (c *dbContainment) apply(ctx context.Context) {
	vpc := aws.ToString(c.db.DBSubnetGroup.VpcId)
	c.parts.Run(ctx, "isolation_group", func() error {
		g, err := ensureIsolationGroup(ctx, c.api.ec2, c.in.Evidence, vpc, c.in.CaseID)
		c.group = g
		return err
	})
	if c.group == "" {
		c.parts.Skip(ctx, "modify", "no isolation group")
		return
	}
	mod := &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(c.p.DBInstanceID), ApplyImmediately: aws.Bool(true)}
	if aws.ToBool(c.db.PubliclyAccessible) {
		mod.PubliclyAccessible = aws.Bool(false)
	}
	if !slices.Equal(groupIDs(c.db), []string{c.group}) {
		mod.VpcSecurityGroupIds = []string{c.group}
	}
	if mod.PubliclyAccessible == nil && mod.VpcSecurityGroupIds == nil {
		c.parts.Skip(ctx, "modify", "not publicly accessible, in the isolation group alone already")
		return
	}
	c.parts.Run(ctx, "modify", func() error { return modify(ctx, c.api.rds, c.in.Evidence, mod) })
}

// modify makes an instance modification and records it.
func modify(ctx context.Context, api rdsAPI, ev engine.Evidence, mod *rds.ModifyDBInstanceInput) error {
	if _, err := api.ModifyDBInstance(ctx, mod); err != nil {
		return awsapi.Classify(err)
	}
	detail := map[string]any{"db_instance_id": aws.ToString(mod.DBInstanceIdentifier), "apply_immediately": true}
	if mod.PubliclyAccessible != nil {
		detail["publicly_accessible"] = *mod.PubliclyAccessible
	}
	if mod.VpcSecurityGroupIds != nil {
		detail["vpc_security_group_ids"] = mod.VpcSecurityGroupIds
	}
	return awsapi.Change(ctx, ev, "rds:ModifyDBInstance", detail)
}

// ensureIsolationGroup finds the VPC's isolation group or makes it, and
// takes any rule out of it: no traffic either way.
func ensureIsolationGroup(ctx context.Context, api groupAPI, ev engine.Evidence, vpc, caseID string) (string, error) {
	out, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{isolationGroupName}}}})
	if err != nil {
		return "", fmt.Errorf("looking for %s in %q: %w", isolationGroupName, vpc, awsapi.Classify(err))
	}
	var g ec2types.SecurityGroup
	if len(out.SecurityGroups) > 0 {
		g = out.SecurityGroups[0]
	} else {
		made, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(isolationGroupName), VpcId: aws.String(vpc),
			Description: aws.String("firebreak isolation group: made by incident response, do not add rules"),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: awsapi.EC2Tags(map[string]string{
				awsapi.TagRole: "isolation", awsapi.TagCase: caseID, awsapi.TagVPC: vpc})}}})
		if awsapi.Code(err) == "InvalidGroup.Duplicate" {
			return ensureIsolationGroup(ctx, api, ev, vpc, caseID) // another step made it meanwhile
		}
		if err != nil {
			return "", fmt.Errorf("creating %s in %q: %w", isolationGroupName, vpc, awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, ev, "ec2:CreateSecurityGroup", map[string]any{"group_id": aws.ToString(made.GroupId), "name": isolationGroupName, "vpc_id": vpc}); err != nil {
			return "", err
		}
		// A new group allows all egress: taken out below.
		g = ec2types.SecurityGroup{GroupId: made.GroupId, IpPermissionsEgress: []ec2types.IpPermission{{IpProtocol: aws.String("-1"),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}
	}
	return aws.ToString(g.GroupId), emptyGroup(ctx, api, ev, g)
}

// emptyGroup revokes every rule of g.
func emptyGroup(ctx context.Context, api groupAPI, ev engine.Evidence, g ec2types.SecurityGroup) error {
	id := g.GroupId
	if len(g.IpPermissionsEgress) > 0 {
		if _, err := api.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: id, IpPermissions: g.IpPermissionsEgress}); err != nil {
			return fmt.Errorf("emptying %s: %w", aws.ToString(id), awsapi.Classify(err))
		}
		if err := awsapi.Change(ctx, ev, "ec2:RevokeSecurityGroupEgress", map[string]any{"group_id": aws.ToString(id), "rules": len(g.IpPermissionsEgress)}); err != nil {
			return err
		}
	}
	if len(g.IpPermissions) > 0 {
		if _, err := api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: id, IpPermissions: g.IpPermissions}); err != nil {
			return fmt.Errorf("emptying %s: %w", aws.ToString(id), awsapi.Classify(err))
		}
		return awsapi.Change(ctx, ev, "ec2:RevokeSecurityGroupIngress", map[string]any{"group_id": aws.ToString(id), "rules": len(g.IpPermissions)})
	}
	return nil
}
