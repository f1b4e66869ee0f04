package rds

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// releaseDB undoes contain-db for a false positive, from the state it
// recorded (previous_state, else the prev tags): the instance's security
// groups and public accessibility come back, applied at once. The
// snapshot is kept: it is evidence. It is idempotent.
type releaseDB struct {
	apis   func(region string) dbAPIs
	region func(region string) string
}

var _ engine.Action = (*releaseDB)(nil)

type releaseDBParams struct {
	DBInstanceID  string         `param:"db_instance_id,required" doc:"the contained DB instance"`
	Region        string         `param:"region" default:"" doc:"the instance's region; empty: the run's default"`
	PreviousState map[string]any `param:"previous_state" doc:"contain-db's previous_state output; empty: read the prev tags contain-db left on the instance"`
}

var releaseDBCalls = []string{"rds:DescribeDBInstances", "rds:ModifyDBInstance", "rds:RemoveTagsFromResource", "rds:AddTagsToResource"}

func (*releaseDB) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "release-db",
		Summary: "Undo contain-db (a false positive): the instance's security groups and public accessibility as recorded; the snapshot is kept",
		Params:  engine.ParamsOf[releaseDBParams](),
		Outputs: []engine.Output{
			{Name: "restored", Type: engine.TypeMap},
			{Name: "substeps", Type: engine.TypeMap},
		},
		Calls:       releaseDBCalls,
		Permissions: awsperm.ForCalls(releaseDBCalls),
		Grants:      dbGrant("rds:AddTagsToResource", "rds:ModifyDBInstance", "rds:RemoveTagsFromResource"),
		Mutating:    true,
	}
}

var errReleased = errors.New("released already")

func (a *releaseDB) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[releaseDBParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("release-db: %w", err)
	}
	api := a.apis(p.Region).rds
	db, tags, want, err := loadRelease(ctx, api, p)
	if errors.Is(err, errReleased) {
		return engine.Outputs{"restored": map[string]any{}, "substeps": map[string]any{"all": "skipped: released already (tag firebreak:status=released)"}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("release-db: %w (nothing was changed)", err)
	}
	parts := awsapi.NewParts(in.Evidence)
	mod := &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(p.DBInstanceID), ApplyImmediately: aws.Bool(true)}
	if aws.ToBool(db.PubliclyAccessible) != want.PubliclyAccessible {
		mod.PubliclyAccessible = aws.Bool(want.PubliclyAccessible)
	}
	if !slices.Equal(groupIDs(db), want.SecurityGroups) {
		mod.VpcSecurityGroupIds = want.SecurityGroups
	}
	if mod.PubliclyAccessible == nil && mod.VpcSecurityGroupIds == nil {
		parts.Skip(ctx, "modify", "as recorded already")
	} else {
		parts.Run(ctx, "modify", func() error { return modify(ctx, api, in.Evidence, mod) })
	}
	if parts.OK() {
		parts.Run(ctx, "tags", func() error { return releaseTags(ctx, api, in.Evidence, aws.ToString(db.DBInstanceArn), tags) })
	} else {
		parts.Skip(ctx, "tags", "kept while a part failed: a rerun reads them")
	}
	return engine.Outputs{"restored": want.asMap(), "substeps": parts.Map()}, parts.Err("release-db")
}

// loadRelease reads the instance and the state to put back.
func loadRelease(ctx context.Context, api rdsAPI, p releaseDBParams) (dbInstance, map[string]string, *dbState, error) {
	db, err := describeDB(ctx, api, p.DBInstanceID)
	if err != nil {
		return db, nil, nil, err
	}
	tags := tagMap(db.TagList)
	if len(p.PreviousState) > 0 {
		s, err := dbStateFromMap(p.PreviousState)
		if err != nil || s.DBInstanceID != p.DBInstanceID {
			return db, tags, nil, fmt.Errorf("previous_state is not contain-db's state of %q (%v)", p.DBInstanceID, err)
		}
		return db, tags, s, nil
	}
	s, ok := stateFromTags(tags)
	switch {
	case !ok && tags[awsapi.TagStatus] == "released":
		return db, tags, nil, errReleased
	case !ok:
		return db, tags, nil, fmt.Errorf("DB instance %q carries no firebreak containment state (tags %s, %s): give previous_state, or it was never contained", p.DBInstanceID, prevTagPublic, prevTagGroups)
	case len(s.SecurityGroups) == 0:
		return db, tags, nil, fmt.Errorf("DB instance %q: tag %s names no group", p.DBInstanceID, prevTagGroups)
	}
	s.DBInstanceID, s.ARN = p.DBInstanceID, aws.ToString(db.DBInstanceArn)
	return db, tags, s, nil
}

// releaseTags removes the prev tags and marks the instance released; the
// case tag stays.
func releaseTags(ctx context.Context, api rdsAPI, ev engine.Evidence, arn string, tags map[string]string) error {
	var drop []string
	for _, k := range []string{prevTagPublic, prevTagGroups} {
		if _, ok := tags[k]; ok {
			drop = append(drop, k)
		}
	}
	if len(drop) > 0 {
		if _, err := api.RemoveTagsFromResource(ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String(arn), TagKeys: drop}); err != nil {
			return awsapi.Classify(err)
		}
		if err := awsapi.Change(ctx, ev, "rds:RemoveTagsFromResource", map[string]any{"db_instance_arn": arn, "tags": drop}); err != nil {
			return err
		}
	}
	if tags[awsapi.TagCase] == "" || tags[awsapi.TagStatus] == "released" {
		return nil
	}
	if _, err := api.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: aws.String(arn), Tags: rdsTags(map[string]string{awsapi.TagStatus: "released"})}); err != nil {
		return awsapi.Classify(err)
	}
	return awsapi.Change(ctx, ev, "rds:AddTagsToResource", map[string]any{"db_instance_arn": arn, "tags": map[string]string{awsapi.TagStatus: "released"}})
}
