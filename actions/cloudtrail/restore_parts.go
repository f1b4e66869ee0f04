package cloudtrail

import (
	"context"
	"maps"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Tags restore-trail leaves on the trail: the case, and the settings as
// they were before its first run (written once, never overwritten).
const (
	prevTagLogging     = "firebreak:prev:logging"
	prevTagMultiRegion = "firebreak:prev:multi-region"
	prevTagValidation  = "firebreak:prev:log-file-validation"
)

// restoration is one restore-trail run's changes, made in the trail's
// home region.
type restoration struct {
	p      restoreTrailParams
	api    trailAPI
	ev     engine.Evidence
	rec    *trailRecord
	parts  *awsapi.Parts
	caseID string
}

func (r *restoration) apply(ctx context.Context) {
	// Changes name the trail by its name, in its home region: the name
	// and the ARN are alike there, and some endpoints (moto) take only
	// the name.
	s, arn := r.rec.state, aws.String(r.rec.state.Name)
	r.parts.Run(ctx, "tags", func() error { return r.tag(ctx) })
	if s.Logging {
		r.parts.Skip(ctx, "logging", "already logging")
	} else {
		r.parts.Run(ctx, "logging", func() error {
			if _, err := r.api.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: arn}); err != nil {
				return awsapi.Classify(err)
			}
			return awsapi.Change(ctx, r.ev, "cloudtrail:StartLogging", map[string]any{"trail_arn": s.ARN})
		})
	}
	up := &cloudtrail.UpdateTrailInput{Name: arn}
	if r.p.MultiRegion && !s.MultiRegion {
		up.IsMultiRegionTrail = aws.Bool(true)
	}
	if r.p.LogFileValidation && !s.LogFileValidation {
		up.EnableLogFileValidation = aws.Bool(true)
	}
	if up.IsMultiRegionTrail == nil && up.EnableLogFileValidation == nil {
		r.parts.Skip(ctx, "settings", "multi-region and log file validation as wanted")
	} else {
		r.parts.Run(ctx, "settings", func() error {
			if _, err := r.api.UpdateTrail(ctx, up); err != nil {
				return awsapi.Classify(err)
			}
			return awsapi.Change(ctx, r.ev, "cloudtrail:UpdateTrail", map[string]any{"trail_arn": s.ARN,
				"is_multi_region_trail": aws.ToBool(up.IsMultiRegionTrail) || s.MultiRegion, "log_file_validation": aws.ToBool(up.EnableLogFileValidation) || s.LogFileValidation})
		})
	}
	r.applySelectors(ctx)
}

// applySelectors makes the first basic selector take every management
// event, keeping its data resources; a trail with advanced selectors is
// left as it is (their grammar is the responder's to judge).
func (r *restoration) applySelectors(ctx context.Context) {
	s := r.rec.state
	switch {
	case !r.p.ManagementEvents:
		r.parts.Skip(ctx, "event_selectors", "not asked for (management_events: false)")
		return
	case s.Advanced:
		r.parts.Skip(ctx, "event_selectors", "the trail uses advanced event selectors: left as they are (recorded in the artifact)")
		return
	case s.ManagementEvents:
		r.parts.Skip(ctx, "event_selectors", "management events already taken")
		return
	}
	sel := append([]types.EventSelector(nil), r.rec.selectors...)
	if len(sel) == 0 {
		sel = []types.EventSelector{{}}
	}
	sel[0].IncludeManagementEvents, sel[0].ReadWriteType = aws.Bool(true), types.ReadWriteTypeAll
	r.parts.Run(ctx, "event_selectors", func() error {
		if _, err := r.api.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(s.Name), EventSelectors: sel}); err != nil {
			return awsapi.Classify(err)
		}
		return awsapi.Change(ctx, r.ev, "cloudtrail:PutEventSelectors", map[string]any{"trail_arn": s.ARN, "event_selectors": sel})
	})
}

// tag writes the case and the prev tags (those only when absent, so the
// state before the first restore is what they keep).
func (r *restoration) tag(ctx context.Context) error {
	have := map[string]string{}
	for _, t := range r.rec.Tags {
		have[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	want := maps.Clone(have)
	s := r.rec.state
	for k, v := range map[string]string{prevTagLogging: strconv.FormatBool(s.Logging), prevTagMultiRegion: strconv.FormatBool(s.MultiRegion),
		prevTagValidation: strconv.FormatBool(s.LogFileValidation), awsapi.TagCase: r.caseID} {
		if _, ok := want[k]; !ok {
			want[k] = v
		}
	}
	want[awsapi.TagStatus] = "restored"
	var add []types.Tag
	for k, v := range want {
		if have[k] != v || !hasKey(have, k) {
			add = append(add, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	}
	if len(add) == 0 {
		return nil
	}
	if _, err := r.api.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(s.ARN), TagsList: add}); err != nil {
		return awsapi.Classify(err)
	}
	return awsapi.Change(ctx, r.ev, "cloudtrail:AddTags", map[string]any{"trail_arn": s.ARN, "tags": len(add)})
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// loggingNow reads the trail's status again, so the output says what is,
// not what was asked for.
func (r *restoration) loggingNow(ctx context.Context) bool {
	st, err := r.api.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(r.rec.state.ARN)})
	if err != nil {
		r.parts.Fail(ctx, "read_back", awsapi.Classify(err))
		return false
	}
	return aws.ToBool(st.IsLogging)
}
