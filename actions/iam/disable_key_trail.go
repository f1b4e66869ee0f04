package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// maxTrailPages bounds the lookup (50 events a page): LookupEvents allows
// two calls a second, and a busy key's week can be long.
const maxTrailPages = 200

// trailRecord is the CloudTrail artifact. Available false says the
// endpoint could not answer, and why: the case shows the gap.
type trailRecord struct {
	AccessKeyID string        `json:"access_key_id"`
	Region      string        `json:"region"`
	From        time.Time     `json:"from"`
	To          time.Time     `json:"to"`
	Available   bool          `json:"available"`
	Reason      string        `json:"reason,omitempty"`
	Truncated   bool          `json:"truncated,omitempty"`
	Events      []types.Event `json:"events"`
}

// lookupKeyEvents saves the management events the key made between from
// and to. An endpoint that does not implement LookupEvents (moto) gives
// an artifact that says so and a custody gap, not a failure. It returns
// the number of events, or -1 for a gap.
func lookupKeyEvents(ctx context.Context, api trailAPI, ev engine.Evidence, key, region string, from, to time.Time) (int, error) {
	rec := &trailRecord{AccessKeyID: key, Region: region, From: from.UTC(), To: to.UTC(), Available: true, Events: []types.Event{}}
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(key)}},
		StartTime:        aws.Time(from), EndTime: aws.Time(to),
	}
	var lookErr error
	for page := 0; ; page++ {
		if page == maxTrailPages {
			rec.Truncated = true
			break
		}
		out, err := api.LookupEvents(ctx, in)
		if err != nil {
			lookErr = err
			break
		}
		rec.Events = append(rec.Events, out.Events...)
		if in.NextToken = out.NextToken; in.NextToken == nil {
			break
		}
	}
	gap := lookErr != nil && (awsapi.IsNotImplemented(lookErr) || unanswered(lookErr))
	if lookErr != nil && !gap {
		return 0, fmt.Errorf("looking up the CloudTrail events of access key %q: %w", key, awsapi.Classify(lookErr))
	}
	if gap {
		rec.Available, rec.Reason, rec.Events = false, "cloudtrail:LookupEvents is not implemented by the endpoint: "+lookErr.Error(), nil
	}
	if _, err := awsapi.PutJSON(ctx, ev, engine.ArtifactMeta{Name: "cloudtrail-events.json", Kind: "cloudtrail-events",
		Source: map[string]string{"access_key_id": key, "region": region}}, rec); err != nil {
		return 0, err
	}
	if gap {
		return -1, awsapi.Gap(ctx, ev, "cloudtrail:LookupEvents", lookErr, map[string]any{"access_key_id": key, "region": region})
	}
	return len(rec.Events), nil
}

// unanswered is awsapi.IsUnanswered for JSON-protocol services as well:
// moto_server answers an action it lacks with an HTML 500 page, which
// CloudTrail's JSON decoder, not an XML one, fails on. Only for optional
// read-only calls, as awsapi.IsUnanswered says.
func unanswered(err error) bool {
	var re *smithyhttp.ResponseError
	var de *smithy.DeserializationError
	return awsapi.IsUnanswered(err) ||
		errors.As(err, &re) && re.HTTPStatusCode() == http.StatusInternalServerError && errors.As(err, &de)
}
