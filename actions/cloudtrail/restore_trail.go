package cloudtrail

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// restoreTrail puts a trail an attacker stopped or weakened back to
// logging: it records the trail as it is (configuration, status, event
// selectors, tags), then starts logging, makes it multi-region with log
// file validation, and puts management events back in its event
// selectors; then it looks up in CloudTrail's event history who stopped,
// changed or deleted it. It is idempotent: what is already as wanted is
// left alone. There is no release: putting the attacker's change back is
// not a thing a responder does; the artifact keeps the state before.
type restoreTrail struct {
	api    func(region string) trailAPI
	region func(region string) string
	now    func() time.Time
}

var _ engine.Action = (*restoreTrail)(nil)

type restoreTrailParams struct {
	Trail             string        `param:"trail,required" doc:"the trail's name or ARN"`
	Region            string        `param:"region" default:"" doc:"where to look the trail up; empty: the ARN's region, else the run's default (changes go to the trail's home region)"`
	MultiRegion       bool          `param:"multi_region" default:"true" doc:"make the trail log every region"`
	LogFileValidation bool          `param:"log_file_validation" default:"true" doc:"turn log file validation on (digest files prove the logs unchanged)"`
	ManagementEvents  bool          `param:"management_events" default:"true" doc:"put read and write management events back in the trail's (basic) event selectors"`
	Lookback          time.Duration `param:"lookback" default:"168h" doc:"how far back to look in the event history for who stopped, changed or deleted the trail"`
}

var restoreTrailCalls = []string{
	"cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors", "cloudtrail:GetInsightSelectors",
	"cloudtrail:ListTags", "cloudtrail:AddTags", "cloudtrail:StartLogging", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
	"cloudtrail:LookupEvents",
}

func (*restoreTrail) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name: "restore-trail",
		Summary: "Record a stopped or weakened CloudTrail trail, then start its logging, make it multi-region with log file validation, " +
			"put management events back, and record who changed it (from the event history, when CloudTrail can say)",
		Params: engine.ParamsOf[restoreTrailParams](),
		Outputs: []engine.Output{
			{Name: "trail_arn", Type: engine.TypeString},
			{Name: "previous_state", Type: engine.TypeMap, Doc: "the trail's settings before: logging, multi_region, log_file_validation, management_events"},
			{Name: "logging", Type: engine.TypeBool, Doc: "true when the trail logs, read back after the changes", Headline: true},
			{Name: "substeps", Type: engine.TypeMap},
			{Name: "changed_by", Type: engine.TypeList, Doc: "the events that stopped, changed or deleted the trail: name, time, user, access key, source address; empty when the history could not be read (a gap is recorded)"},
		},
		Calls:       restoreTrailCalls,
		Permissions: awsperm.ForCalls(restoreTrailCalls),
		// DescribeTrails and LookupEvents take no resource; the rest act
		// on a trail.
		Grants: []engine.Grant{{Statement: "CloudTrailTrails", Resource: []string{"arn:aws:cloudtrail:*:*:trail/*"},
			Actions: []string{"cloudtrail:AddTags", "cloudtrail:GetEventSelectors", "cloudtrail:GetInsightSelectors", "cloudtrail:GetTrailStatus",
				"cloudtrail:ListTags", "cloudtrail:PutEventSelectors", "cloudtrail:StartLogging", "cloudtrail:UpdateTrail"}}},
		Mutating: true,
	}
}

// trailState is the part of a trail restore-trail changes, as it was.
type trailState struct {
	ARN               string `json:"trail_arn"`
	Name              string `json:"name"`
	HomeRegion        string `json:"home_region"`
	Logging           bool   `json:"logging"`
	MultiRegion       bool   `json:"multi_region"`
	LogFileValidation bool   `json:"log_file_validation"`
	// ManagementEvents is true when a basic event selector takes read
	// and write management events; Advanced is true when the trail uses
	// advanced event selectors, which restore-trail leaves alone.
	ManagementEvents bool `json:"management_events"`
	Advanced         bool `json:"advanced_selectors"`
}

func (s trailState) asMap() map[string]any {
	return map[string]any{"trail_arn": s.ARN, "name": s.Name, "home_region": s.HomeRegion, "logging": s.Logging, "multi_region": s.MultiRegion,
		"log_file_validation": s.LogFileValidation, "management_events": s.ManagementEvents, "advanced_selectors": s.Advanced}
}

func (a *restoreTrail) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[restoreTrailParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("restore-trail: %w", err)
	}
	if p.Lookback <= 0 {
		return nil, fmt.Errorf("restore-trail: lookback %s: want a positive duration", p.Lookback)
	}
	look := a.api(lookupRegion(p))
	rec, err := readTrail(ctx, look, in.Evidence, p.Trail)
	if err != nil {
		return nil, fmt.Errorf("restore-trail: %w (nothing was changed)", err)
	}
	home := a.api(rec.state.HomeRegion)
	if _, err := awsapi.PutJSON(ctx, in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName("pre-restore-state", ".json", in),
		Kind: "trail-state", Source: map[string]string{"trail_arn": rec.state.ARN, "region": rec.state.HomeRegion}}, rec); err != nil {
		return nil, fmt.Errorf("restore-trail: %w (nothing was changed)", err)
	}
	// Logging first, the investigation after: the event history does not
	// depend on the trail, but every minute without logging is lost.
	parts := awsapi.NewParts(in.Evidence)
	r := &restoration{p: p, api: home, ev: in.Evidence, rec: rec, parts: parts, caseID: in.CaseID}
	r.apply(ctx)
	out := engine.Outputs{"trail_arn": rec.state.ARN, "previous_state": rec.state.asMap(), "substeps": parts.Map()}
	out["logging"] = r.loggingNow(ctx)
	changedBy, err := lookupChanges(ctx, home, in, rec.state, a.now(), p.Lookback)
	if err != nil {
		parts.Fail(ctx, "lookup_changes", err)
	}
	out["changed_by"], out["substeps"] = changedBy, parts.Map()
	return out, parts.Err("restore-trail")
}

// lookupRegion is where to look the trail up: the region given, else the
// ARN's, else the run's default ("").
func lookupRegion(p restoreTrailParams) string {
	if p.Region != "" {
		return p.Region
	}
	if f := strings.Split(p.Trail, ":"); strings.HasPrefix(p.Trail, "arn:") && len(f) > 3 {
		return f[3]
	}
	return ""
}

// trailRecord is the pre-restore artifact.
type trailRecord struct {
	state     trailState
	Trail     types.Trail                      `json:"trail"`
	Status    *cloudtrail.GetTrailStatusOutput `json:"status"`
	Selectors map[string]any                   `json:"event_selectors"`
	Insights  any                              `json:"insight_selectors"`
	Tags      []types.Tag                      `json:"tags"`
	State     trailState                       `json:"state"`
	Gaps      map[string]string                `json:"gaps,omitempty"`
	selectors []types.EventSelector
}

// readTrail reads everything restore-trail changes or an examiner needs.
// The trail's status, selectors and tags are read from its home region.
func readTrail(ctx context.Context, api trailAPI, ev engine.Evidence, name string) (*trailRecord, error) {
	out, err := api.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("describing trail %q: %w", name, awsapi.Classify(err))
	}
	// The answer is filtered again: an endpoint may answer with every
	// trail it has (moto does).
	i := slices.IndexFunc(out.TrailList, func(t types.Trail) bool { return aws.ToString(t.Name) == name || aws.ToString(t.TrailARN) == name })
	if i < 0 {
		return nil, fmt.Errorf("no trail %q here: it may have been deleted (the lookup of who did it needs the trail; recreate it from your own records)", name)
	}
	t := out.TrailList[i]
	arn := aws.ToString(t.TrailARN)
	rec := &trailRecord{Trail: t, Gaps: map[string]string{}}
	rec.state = trailState{ARN: arn, Name: aws.ToString(t.Name), HomeRegion: aws.ToString(t.HomeRegion), MultiRegion: aws.ToBool(t.IsMultiRegionTrail),
		LogFileValidation: aws.ToBool(t.LogFileValidationEnabled)}
	if rec.Status, err = api.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)}); err != nil {
		return nil, fmt.Errorf("reading the status of trail %q: %w", arn, awsapi.Classify(err))
	}
	rec.state.Logging = aws.ToBool(rec.Status.IsLogging)
	sel, err := api.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: t.Name})
	if err != nil {
		return nil, fmt.Errorf("reading the event selectors of trail %q: %w", arn, awsapi.Classify(err))
	}
	rec.selectors = sel.EventSelectors
	rec.Selectors = map[string]any{"event_selectors": sel.EventSelectors, "advanced_event_selectors": sel.AdvancedEventSelectors}
	rec.state.Advanced = len(sel.AdvancedEventSelectors) > 0
	rec.state.ManagementEvents = rec.state.Advanced || takesManagementEvents(sel.EventSelectors)
	readOptional(ctx, ev, rec, "cloudtrail:GetInsightSelectors", "insight_selectors", func() (any, error) {
		o, err := api.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: t.Name})
		if awsapi.Code(err) == "InsightNotEnabledException" {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return o.InsightSelectors, nil
	})
	readOptional(ctx, ev, rec, "cloudtrail:ListTags", "tags", func() (any, error) {
		o, err := api.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn}})
		if err != nil {
			return nil, err
		}
		for _, rt := range o.ResourceTagList {
			rec.Tags = append(rec.Tags, rt.TagsList...)
		}
		return nil, nil
	})
	rec.State = rec.state
	return rec, nil
}

// readOptional makes a read an examiner wants but restoring does not
// need: its failure is kept in the record's gaps and recorded in the
// custody log, and restoring goes on.
func readOptional(ctx context.Context, ev engine.Evidence, rec *trailRecord, call, name string, read func() (any, error)) {
	v, err := read()
	if err != nil {
		rec.Gaps[name] = err.Error()
		_ = awsapi.Gap(ctx, ev, call, err, map[string]any{"trail_arn": rec.state.ARN})
		return
	}
	if name == "insight_selectors" {
		rec.Insights = v
	}
}

// takesManagementEvents reports whether a basic selector takes every
// management event (reads and writes).
func takesManagementEvents(sel []types.EventSelector) bool {
	for _, s := range sel {
		if aws.ToBool(s.IncludeManagementEvents) && s.ReadWriteType == types.ReadWriteTypeAll {
			return true
		}
	}
	return false
}
