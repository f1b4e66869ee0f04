package rds

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// containDB contains a compromised RDS instance, evidence first: a manual
// snapshot (tagged with the case, waited for until available) and the
// instance's configuration; then it is made not publicly accessible and
// its VPC security groups are swapped for the isolation group of its VPC
// (no rule either way, shared with isolate's hosts). Changes apply at
// once, not in the next maintenance window.
//
// It is idempotent: the snapshot is found again by its name, the state
// before is kept in prev tags (written once), and what is contained
// already is left alone. Aurora instances are refused: their groups
// belong to the cluster.
type containDB struct {
	apis   func(region string) dbAPIs
	region func(region string) string
	sleep  func(ctx context.Context, d time.Duration) error
	poll   time.Duration
}

var _ engine.Action = (*containDB)(nil)

type containDBParams struct {
	DBInstanceID    string        `param:"db_instance_id,required" doc:"the DB instance identifier"`
	Region          string        `param:"region" default:"" doc:"the instance's region; empty: the run's default"`
	Snapshot        bool          `param:"snapshot" default:"true" doc:"take a manual snapshot first and wait for it (false: the containment goes ahead without one)"`
	SnapshotTimeout time.Duration `param:"snapshot_timeout" default:"2h" doc:"how long to wait for the snapshot to become available; containment waits too"`
}

// isolationGroupName is the group of a VPC that has no rule either way:
// the same one isolate puts hosts in.
const isolationGroupName = "firebreak-isolation"

var containDBCalls = []string{
	"rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "rds:CreateDBSnapshot", "rds:AddTagsToResource", "rds:ModifyDBInstance",
	"ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
}

func (*containDB) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name: "contain-db",
		Summary: "Snapshot an RDS instance (tagged, waited for) and record its configuration, then make it not publicly accessible " +
			"and swap its security groups for its VPC's isolation group",
		Params: engine.ParamsOf[containDBParams](),
		Outputs: []engine.Output{
			{Name: "previous_state", Type: engine.TypeMap, Doc: "what was changed, as it was (release-db takes it)"},
			{Name: "snapshot_id", Type: engine.TypeString, Doc: "the manual snapshot; empty when snapshot is false", Headline: true},
			{Name: "isolation_group_id", Type: engine.TypeString, Headline: true},
			{Name: "substeps", Type: engine.TypeMap},
		},
		Calls:       containDBCalls,
		Permissions: awsperm.ForCalls(containDBCalls),
		Grants:      dbGrant("rds:AddTagsToResource", "rds:CreateDBSnapshot", "rds:ModifyDBInstance"),
		Mutating:    true,
	}
}

func (a *containDB) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[containDBParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("contain-db: %w", err)
	}
	if !dbIDRule.MatchString(p.DBInstanceID) {
		return nil, fmt.Errorf("contain-db: %q is not a DB instance identifier", p.DBInstanceID)
	}
	c := &dbContainment{a: a, p: p, in: in, api: a.apis(p.Region), region: a.region(p.Region), parts: awsapi.NewParts(in.Evidence)}
	if err := c.read(ctx); err != nil {
		return nil, fmt.Errorf("contain-db: %w (nothing was changed)", err)
	}
	if err := c.evidence(ctx); err != nil {
		return nil, fmt.Errorf("contain-db: %w (nothing was changed: the evidence comes first)", err)
	}
	c.apply(ctx)
	out := engine.Outputs{"previous_state": c.state.asMap(), "snapshot_id": c.snapshot, "isolation_group_id": c.group, "substeps": c.parts.Map()}
	return out, c.parts.Err("contain-db")
}

// dbIDRule is RDS's rule for instance identifiers.
var dbIDRule = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,62}$`)

// dbInstance is an RDS instance as DescribeDBInstances gives it.
type dbInstance = types.DBInstance

// describeDB reads one instance.
func describeDB(ctx context.Context, api rdsAPI, id string) (types.DBInstance, error) {
	out, err := api.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		return types.DBInstance{}, fmt.Errorf("describing DB instance %q: %w", id, awsapi.Classify(err))
	}
	if len(out.DBInstances) != 1 {
		return types.DBInstance{}, fmt.Errorf("describing DB instance %q: %d answers, want 1", id, len(out.DBInstances))
	}
	return out.DBInstances[0], nil
}

// snapshotID is the case's snapshot of an instance, found again by it:
// "firebreak-CASE-DB" in lower case, as RDS keeps identifiers.
func snapshotID(caseID, db string) string {
	id := strings.ToLower("firebreak-" + caseID + "-" + db)
	id = regexp.MustCompile(`[^a-z0-9-]+|-{2,}`).ReplaceAllString(id, "-")
	if len(id) > 255 {
		id = id[:255]
	}
	return strings.TrimRight(id, "-")
}
