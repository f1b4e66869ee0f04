package rds

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awstest"
)

type dbWorld struct {
	e      *awstest.Env
	rds    *rds.Client
	ec2    *ec2.Client
	reg    *engine.Registry
	vpc    string
	groups []string
}

// newDBWorld makes orders-db: postgres, publicly accessible, in two
// security groups of its VPC.
func newDBWorld(t *testing.T) *dbWorld {
	t.Helper()
	e := awstest.Start(t)
	ctx := awstest.Ctx(t)
	w := &dbWorld{e: e, rds: rds.NewFromConfig(e.Direct), ec2: ec2.NewFromConfig(e.Direct)}
	vpc, err := w.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	w.vpc = aws.ToString(vpc.Vpc.VpcId)
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		s, err := w.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(w.vpc), CidrBlock: aws.String([]string{"10.9.1.0/24", "10.9.2.0/24"}[i]), AvailabilityZone: aws.String(az)})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	for _, name := range []string{"orders-db", "orders-admin"} {
		g, err := w.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: aws.String(w.vpc)})
		if err != nil {
			t.Fatal(err)
		}
		w.groups = append(w.groups, aws.ToString(g.GroupId))
	}
	if _, err := w.rds.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("orders"), DBSubnetGroupDescription: aws.String("orders"), SubnetIds: subnets}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("orders-db"), DBInstanceClass: aws.String("db.t3.micro"),
		Engine: aws.String("postgres"), MasterUsername: aws.String("app_admin"), MasterUserPassword: aws.String("example-password-1"), AllocatedStorage: aws.Int32(20),
		DBSubnetGroupName: aws.String("orders"), VpcSecurityGroupIds: w.groups, PubliclyAccessible: aws.Bool(true),
		Tags: []types.Tag{{Key: aws.String("app"), Value: aws.String("orders")}}}); err != nil {
		t.Fatal(err)
	}
	w.reg = engine.NewRegistry()
	Register(w.reg, e.Clients)
	return w
}

func (w *dbWorld) read(t *testing.T) types.DBInstance {
	t.Helper()
	out, err := w.rds.DescribeDBInstances(awstest.Ctx(t), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("orders-db")})
	if err != nil {
		t.Fatal(err)
	}
	return out.DBInstances[0]
}

// TestContainDB: contain-db takes a tagged snapshot and waits for it,
// records the instance, then makes it not publicly accessible in its
// VPC's isolation group alone (no rule either way); read back through RDS
// and EC2. A second run makes no change and finds the same snapshot.
func TestContainDB(t *testing.T) {
	w := newDBWorld(t)
	out, ev, err := w.e.Run(t, w.reg, "contain-db", engine.Params{"db_instance_id": "orders-db", "snapshot": true, "snapshot_timeout": time.Minute})
	if err != nil {
		t.Fatalf("contain-db: %v", err)
	}
	db := w.read(t)
	iso := out["isolation_group_id"].(string)
	if aws.ToBool(db.PubliclyAccessible) || !slices.Equal(groupIDs(db), []string{iso}) {
		t.Errorf("instance: public %v groups %v, want not public, in %s alone", aws.ToBool(db.PubliclyAccessible), groupIDs(db), iso)
	}
	g, err := w.ec2.DescribeSecurityGroups(awstest.Ctx(t), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{iso}})
	if err != nil || aws.ToString(g.SecurityGroups[0].GroupName) != isolationGroupName || aws.ToString(g.SecurityGroups[0].VpcId) != w.vpc ||
		len(g.SecurityGroups[0].IpPermissions) != 0 || len(g.SecurityGroups[0].IpPermissionsEgress) != 0 {
		t.Errorf("isolation group: got %+v (%v), want %s in %s with no rule", g, err, isolationGroupName, w.vpc)
	}
	snap := out["snapshot_id"].(string)
	s, err := w.rds.DescribeDBSnapshots(awstest.Ctx(t), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(snap)})
	if err != nil || aws.ToString(s.DBSnapshots[0].Status) != "available" || tagMap(s.DBSnapshots[0].TagList)[awsapi.TagCase] != "cr-test" {
		t.Errorf("snapshot %s: got %+v (%v), want available and tagged with the case", snap, s, err)
	}
	recs := ev.Records()
	if len(recs) != 1 || recs[0].Kind != "db-snapshot" || recs[0].ID != snap || !recs[0].Complete {
		t.Errorf("recorded artifacts: got %+v, want the snapshot", recs)
	}
	tags := tagMap(db.TagList)
	if tags[prevTagPublic] != "true" || tags[prevTagGroups] != strings.Join(w.groups, " ") || tags["app"] != "orders" {
		t.Errorf("tags: got %v", tags)
	}
	if ch := awstest.Changes(ev); len(ch) == 0 || ch[0] != "rds:CreateDBSnapshot" || ch[len(ch)-1] != "rds:ModifyDBInstance" {
		t.Errorf("changes: got %v, want the snapshot first and the modification last", ch)
	}
	if _, ok := ev.Object("pre-containment-state.json"); !ok {
		t.Errorf("no pre-containment-state.json in %v", ev.Names())
	}

	again, _, err := w.e.Run(t, w.reg, "contain-db", engine.Params{"db_instance_id": "orders-db", "snapshot": true, "snapshot_timeout": time.Minute})
	if err != nil {
		t.Fatalf("second contain-db: %v", err)
	}
	if m := w.e.Mutations(); len(m) != 0 {
		t.Errorf("second run: mutating calls %v, want none", m)
	}
	if again["snapshot_id"] != snap || again["previous_state"].(map[string]any)["publicly_accessible"] != true {
		t.Errorf("second run: got %v, want the same snapshot and the state before from the tags", again)
	}
}

// TestReleaseDB: release-db from the tags alone puts the groups and the
// public accessibility back as they were; a second release changes
// nothing; the snapshot stays.
func TestReleaseDB(t *testing.T) {
	w := newDBWorld(t)
	out, _, err := w.e.Run(t, w.reg, "contain-db", engine.Params{"db_instance_id": "orders-db", "snapshot": true, "snapshot_timeout": time.Minute})
	if err != nil {
		t.Fatalf("contain-db: %v", err)
	}
	for _, params := range []engine.Params{{"db_instance_id": "orders-db"}, {"db_instance_id": "orders-db", "previous_state": out["previous_state"]}} {
		if _, _, err := w.e.Run(t, w.reg, "release-db", params); err != nil {
			t.Fatalf("release-db %v: %v", params, err)
		}
		db := w.read(t)
		if !aws.ToBool(db.PubliclyAccessible) || !slices.Equal(groupIDs(db), w.groups) {
			t.Errorf("after release: public %v groups %v, want public in %v", aws.ToBool(db.PubliclyAccessible), groupIDs(db), w.groups)
		}
	}
	if m := w.e.Mutations(); len(m) != 0 {
		t.Errorf("second release: mutating calls %v, want none", m)
	}
	if tags := tagMap(w.read(t).TagList); tags[prevTagGroups] != "" || tags[awsapi.TagStatus] != "released" {
		t.Errorf("tags: got %v, want the prev tags gone and status released", tags)
	}
	if _, err := w.rds.DescribeDBSnapshots(awstest.Ctx(t), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(out["snapshot_id"].(string))}); err != nil {
		t.Errorf("the snapshot is gone: %v", err)
	}
}

// TestDBPlanChangesNothing: plan --check reads the instance and changes
// nothing; an Aurora instance is refused before anything is done.
func TestDBPlanChangesNothing(t *testing.T) {
	w := newDBWorld(t)
	d := w.e.Plan(t, w.reg, "contain-db", engine.Params{"db_instance_id": "orders-db", "snapshot": true})
	if m := w.e.Mutations(); len(m) != 0 || len(d.Problems) != 0 || !strings.Contains(strings.Join(d.Notes, " "), "publicly accessible true") {
		t.Errorf("contain-db plan: mutations %v, notes %q, problems %q", m, d.Notes, d.Problems)
	}
	d = w.e.Plan(t, w.reg, "release-db", engine.Params{"db_instance_id": "orders-db"})
	if m := w.e.Mutations(); len(m) != 0 || len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "never contained") {
		t.Errorf("release-db plan: mutations %v, problems %q", m, d.Problems)
	}
	ctx := awstest.Ctx(t)
	if _, err := w.rds.CreateDBCluster(ctx, &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("orders-aurora"), Engine: aws.String("aurora-postgresql"),
		MasterUsername: aws.String("app_admin"), MasterUserPassword: aws.String("example-password-1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("orders-aurora-1"), DBClusterIdentifier: aws.String("orders-aurora"),
		DBInstanceClass: aws.String("db.r6g.large"), Engine: aws.String("aurora-postgresql")}); err != nil {
		t.Fatal(err)
	}
	_, _, err := w.e.Run(t, w.reg, "contain-db", engine.Params{"db_instance_id": "orders-aurora-1", "snapshot": true, "snapshot_timeout": time.Minute})
	if err == nil || !strings.Contains(err.Error(), "belongs to cluster") || len(w.e.Mutations()) != 0 {
		t.Errorf("aurora: got %v, mutations %v; want a refusal and no change", err, w.e.Mutations())
	}
}
