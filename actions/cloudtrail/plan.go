package cloudtrail

import (
	"context"
	"fmt"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

var _ engine.Planner = (*restoreTrail)(nil)

// Plan lists the calls restore-trail would make; with Check it reads the
// trail (reads only) and says what a run would change.
func (a *restoreTrail) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	t := awsapi.PlanValue(in.Params["trail"])
	d := &engine.PlanDetail{Calls: []string{
		"cloudtrail:DescribeTrails, GetTrailStatus, GetEventSelectors, GetInsightSelectors, ListTags " + t + " (recorded before any change)",
		"cloudtrail:AddTags " + t + " firebreak:case, firebreak:status=restored, firebreak:prev:*",
		"cloudtrail:StartLogging " + t + " (when stopped)",
		"cloudtrail:UpdateTrail " + t + " IsMultiRegionTrail, EnableLogFileValidation (when off and asked)",
		"cloudtrail:PutEventSelectors " + t + " management events, read and write (when missing and asked)",
		"cloudtrail:LookupEvents ResourceName=" + t + " over " + awsapi.PlanValue(in.Params["lookback"]) + " (who stopped, changed or deleted it)",
	}}
	name, known := in.Params["trail"].(string)
	if !in.Check || !known || a.api == nil {
		return d, nil
	}
	region, _ := in.Params["region"].(string)
	rec, err := readTrail(ctx, a.api(lookupRegion(restoreTrailParams{Trail: name, Region: region})), awsapi.PlanEvidence, name)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	s := rec.state
	d.Notes = append(d.Notes, fmt.Sprintf("trail %s (home region %s): logging %t, multi-region %t, log file validation %t, management events %t",
		s.ARN, s.HomeRegion, s.Logging, s.MultiRegion, s.LogFileValidation, s.ManagementEvents))
	if !s.Logging {
		d.Notes = append(d.Notes, "logging is stopped: it would be started")
	}
	return d, nil
}
