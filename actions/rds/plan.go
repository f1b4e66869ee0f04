package rds

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

var (
	_ engine.Planner = (*containDB)(nil)
	_ engine.Planner = (*releaseDB)(nil)
)

// Plan lists the calls contain-db would make; with Check it reads the
// instance (reads only) and says what a run would change.
func (a *containDB) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	db := awsapi.PlanValue(in.Params["db_instance_id"])
	d := &engine.PlanDetail{Calls: []string{"rds:DescribeDBInstances " + db}}
	if in.Params.Bool("snapshot") || isUnknown(in.Params["snapshot"]) {
		d.Calls = append(d.Calls, "rds:DescribeDBSnapshots, CreateDBSnapshot firebreak-CASE-"+db+" tagged with the case, then waited for until available")
	}
	d.Calls = append(d.Calls, "rds:AddTagsToResource "+db+" firebreak:case, firebreak:status=contained, firebreak:prev:*",
		"ec2:DescribeSecurityGroups, CreateSecurityGroup "+isolationGroupName+" in the instance's VPC (when missing), its rules revoked",
		"rds:ModifyDBInstance "+db+" PubliclyAccessible=false VpcSecurityGroupIds=["+isolationGroupName+"] ApplyImmediately")
	id, known := in.Params["db_instance_id"].(string)
	if !in.Check || !known || a.apis == nil {
		return d, nil
	}
	region, _ := in.Params["region"].(string)
	c := &dbContainment{p: containDBParams{DBInstanceID: id}, api: a.apis(region)}
	if err := c.read(ctx); err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	d.Notes = append(d.Notes, fmt.Sprintf("instance %s (%s, %s) in VPC %s: publicly accessible %t, security groups %v",
		id, aws.ToString(c.db.Engine), aws.ToString(c.db.DBInstanceStatus), aws.ToString(c.db.DBSubnetGroup.VpcId), aws.ToBool(c.db.PubliclyAccessible), groupIDs(c.db)))
	if c.state.FromTags {
		d.Notes = append(d.Notes, "the instance is contained already: its prev tags hold the state before")
	}
	return d, nil
}

func isUnknown(v any) bool { _, ok := v.(engine.Unknown); return ok }

// Plan lists the calls release-db would make; with Check it says whether
// there is a containment to undo.
func (a *releaseDB) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	db := awsapi.PlanValue(in.Params["db_instance_id"])
	d := &engine.PlanDetail{Calls: []string{"rds:DescribeDBInstances " + db,
		"rds:ModifyDBInstance " + db + " security groups and PubliclyAccessible as recorded, ApplyImmediately",
		"rds:RemoveTagsFromResource " + db + " firebreak:prev:*; AddTagsToResource firebreak:status=released"}}
	id, known := in.Params["db_instance_id"].(string)
	if !in.Check || !known || a.apis == nil {
		return d, nil
	}
	region, _ := in.Params["region"].(string)
	_, _, want, err := loadRelease(ctx, a.apis(region).rds, releaseDBParams{DBInstanceID: id, PreviousState: in.Params.Map("previous_state")})
	switch {
	case err == errReleased:
		d.Notes = append(d.Notes, "released already: nothing to do")
	case err != nil:
		d.Problems = append(d.Problems, err.Error())
	default:
		d.Notes = append(d.Notes, fmt.Sprintf("would restore security groups %v and publicly accessible %t", want.SecurityGroups, want.PubliclyAccessible))
	}
	return d, nil
}
