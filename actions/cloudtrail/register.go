// Package cloudtrail holds restore-trail: it puts a stopped or weakened
// CloudTrail trail back to logging, after recording it, and records who
// changed it when CloudTrail's event history can say.
package cloudtrail

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Register adds restore-trail to r, sharing c's clients.
func Register(r *engine.Registry, c *awsapi.Clients) {
	r.Register(&restoreTrail{api: func(region string) trailAPI { return c.CloudTrail(region) }, region: c.Region, now: time.Now})
}

// trailAPI is what restore-trail needs from CloudTrail; *cloudtrail.Client
// has it.
type trailAPI interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	GetEventSelectors(ctx context.Context, in *cloudtrail.GetEventSelectorsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
	GetInsightSelectors(ctx context.Context, in *cloudtrail.GetInsightSelectorsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetInsightSelectorsOutput, error)
	ListTags(ctx context.Context, in *cloudtrail.ListTagsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.ListTagsOutput, error)
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
	StartLogging(ctx context.Context, in *cloudtrail.StartLoggingInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error)
	UpdateTrail(ctx context.Context, in *cloudtrail.UpdateTrailInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error)
	PutEventSelectors(ctx context.Context, in *cloudtrail.PutEventSelectorsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error)
	AddTags(ctx context.Context, in *cloudtrail.AddTagsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.AddTagsOutput, error)
}
