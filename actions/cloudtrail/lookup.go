package cloudtrail

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// tamperEvents are the calls that stop, weaken or delete a trail.
var tamperEvents = []string{"StopLogging", "UpdateTrail", "DeleteTrail", "PutEventSelectors", "PutInsightSelectors", "RemoveTags"}

// maxLookupPages bounds the history read (50 events a page, two calls a
// second): a trail's own events over a week are few.
const maxLookupPages = 40

// eventsRecord is the trail-events artifact. Available false says the
// event history could not be read, and why.
type eventsRecord struct {
	TrailARN  string           `json:"trail_arn"`
	From      time.Time        `json:"from"`
	To        time.Time        `json:"to"`
	Available bool             `json:"available"`
	Reason    string           `json:"reason,omitempty"`
	Truncated bool             `json:"truncated,omitempty"`
	Events    []types.Event    `json:"events"`
	ChangedBy []map[string]any `json:"changed_by"`
}

// lookupChanges reads the trail's events from CloudTrail's event history
// (which does not depend on the trail) and keeps those that stopped,
// changed or deleted it. An endpoint without LookupEvents (moto) gives an
// artifact that says so and a custody gap, not a failure.
func lookupChanges(ctx context.Context, api trailAPI, in *engine.StepInput, s trailState, now time.Time, lookback time.Duration) ([]any, error) {
	rec := &eventsRecord{TrailARN: s.ARN, From: now.Add(-lookback).UTC(), To: now.UTC(), Available: true, Events: []types.Event{}, ChangedBy: []map[string]any{}}
	req := &cloudtrail.LookupEventsInput{StartTime: aws.Time(rec.From), EndTime: aws.Time(rec.To),
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyResourceName, AttributeValue: aws.String(s.ARN)}}}
	var lookErr error
	for page := 0; ; page++ {
		if page == maxLookupPages {
			rec.Truncated = true
			break
		}
		out, err := api.LookupEvents(ctx, req)
		if err != nil {
			lookErr = err
			break
		}
		rec.Events = append(rec.Events, out.Events...)
		if req.NextToken = out.NextToken; req.NextToken == nil {
			break
		}
	}
	gap := lookErr != nil && (awsapi.IsNotImplemented(lookErr) || awsapi.IsUnanswered(lookErr))
	if lookErr != nil && !gap {
		return []any{}, fmt.Errorf("looking up who changed trail %q: %w", s.ARN, awsapi.Classify(lookErr))
	}
	if gap {
		rec.Available, rec.Reason, rec.Events = false, "cloudtrail:LookupEvents is not implemented by the endpoint: "+lookErr.Error(), nil
	}
	for _, e := range rec.Events {
		if slices.Contains(tamperEvents, aws.ToString(e.EventName)) {
			rec.ChangedBy = append(rec.ChangedBy, who(e))
		}
	}
	if _, err := awsapi.PutJSON(ctx, in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName("trail-events", ".json", in),
		Kind: "cloudtrail-events", Source: map[string]string{"trail_arn": s.ARN}}, rec); err != nil {
		return []any{}, err
	}
	if gap {
		return []any{}, awsapi.Gap(ctx, in.Evidence, "cloudtrail:LookupEvents", lookErr, map[string]any{"trail_arn": s.ARN})
	}
	out := make([]any, len(rec.ChangedBy))
	for i, c := range rec.ChangedBy {
		out[i] = c
	}
	return out, nil
}

// who is what an event says about who made it: the user, the key and the
// address (the latter two from the event's own record).
func who(e types.Event) map[string]any {
	m := map[string]any{"event": aws.ToString(e.EventName), "user": aws.ToString(e.Username), "access_key_id": aws.ToString(e.AccessKeyId)}
	if e.EventTime != nil {
		m["time"] = e.EventTime.UTC().Format(time.RFC3339)
	}
	var raw struct {
		SourceIPAddress string `json:"sourceIPAddress"`
		UserIdentity    struct {
			ARN string `json:"arn"`
		} `json:"userIdentity"`
	}
	if json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &raw) == nil {
		m["source_ip"], m["principal_arn"] = raw.SourceIPAddress, raw.UserIdentity.ARN
	}
	return m
}
