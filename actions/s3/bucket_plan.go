package s3

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

var _ engine.Planner = (*evidenceBucket)(nil)

// Plan lists the calls a run would make. With Check it reads the bucket and
// runs every check (all reads), saying what a run would create or fix.
func (a *evidenceBucket) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	name, known := in.Params["bucket"].(string)
	shown := fmt.Sprint(in.Params["bucket"])
	d := &engine.PlanDetail{Calls: []string{"s3:HeadBucket " + shown, "s3:CreateBucket " + shown + " ObjectLockEnabledForBucket=true (when missing)"}}
	for _, h := range hardenings {
		d.Calls = append(d.Calls, h.call+" "+shown+" (when missing, on a new bucket or with fix)")
	}
	if !in.Check || !known || a.api == nil {
		return d, nil
	}
	// A value known only at run time is checked as its default would be.
	p, err := engine.Decode[bucketParams](in.Params.Known())
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	b := &bucketWant{name: name, kmsKey: p.KMSKeyID, days: p.RetentionDays, noLock: !p.ObjectLock}
	api := a.api(p.Region)
	_, err = api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	switch {
	case awsapi.IsNotFound(err):
		d.Notes = append(d.Notes, fmt.Sprintf("bucket %q does not exist: it would be created hardened", name))
		return d, nil
	case err != nil:
		d.Problems = append(d.Problems, fmt.Sprintf("bucket %q is not reachable: %v", name, err))
		return d, nil
	}
	// Without fix a missing setting stays missing, and strict (the
	// default) then fails the step.
	failsRun := p.Strict && !p.Fix
	for _, h := range hardenings {
		if !b.asks(h) {
			continue
		}
		why, err := h.check(ctx, api, b)
		switch {
		case err != nil:
			d.Problems = append(d.Problems, fmt.Sprintf("checking %s: %v", h.name, err))
		case why != "" && failsRun:
			d.Problems = append(d.Problems, fmt.Sprintf("%s missing: %s (strict: the run would fail; fix: true repairs it)", h.name, why))
		case why != "":
			d.Notes = append(d.Notes, h.name+" missing: "+why)
		}
	}
	return d, nil
}
