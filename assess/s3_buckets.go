package assess

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// bucket is one bucket of the account with the region it lives in; err
// says why its region could not be found (its checks then report error).
type bucket struct {
	Name   string
	Region string
	err    error
}

func bucketARN(name string) string { return "arn:aws:s3:::" + name }

// listBuckets lists the account's buckets once for every S3 check, with
// their regions, so that 50 buckets cost one ListBuckets and at most 50
// GetBucketLocation calls per run rather than per check.
func (e *Env) listBuckets(ctx context.Context) ([]bucket, error) {
	return e.buckets.get(func() ([]bucket, error) {
		api := e.S3(e.HomeRegion)
		var bs []bucket
		p := s3.NewListBucketsPaginator(api, &s3.ListBucketsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, b := range page.Buckets {
				bs = append(bs, bucket{Name: aws.ToString(b.Name), Region: aws.ToString(b.BucketRegion)})
			}
		}
		each(len(bs), e.Fanout, func(i int) {
			if bs[i].Region != "" {
				return
			}
			out, err := api.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bs[i].Name)})
			if err != nil {
				bs[i].err = fmt.Errorf("s3:GetBucketLocation: %w", err)
				return
			}
			bs[i].Region = bucketRegion(string(out.LocationConstraint))
		})
		return bs, nil
	})
}

// bucketRegion maps a location constraint to its region: empty is
// us-east-1 and "EU" the legacy name of eu-west-1.
func bucketRegion(loc string) string {
	switch loc {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return loc
}

// firstRegion reports whether region is the one that speaks for account-wide
// problems (a failed listing), so they are reported once, not per region.
func (e *Env) firstRegion(region string) bool {
	return len(e.regions) == 0 || region == e.regions[0]
}

// forBuckets runs judge on every bucket in region, a few at a time, with
// that region's client. A bucket whose region is unknown is judged error in
// the first region; a failed listing is one error result there.
func forBuckets(ctx context.Context, env *Env, region string, judge func(ctx context.Context, api S3API, name string) Result) []Result {
	bs, err := env.listBuckets(ctx)
	if err != nil {
		if env.firstRegion(region) {
			return []Result{errored("s3", "s3:ListBuckets", err)}
		}
		return nil
	}
	var mine []bucket
	for _, b := range bs {
		if b.Region == region || (b.err != nil && env.firstRegion(region)) {
			mine = append(mine, b)
		}
	}
	out := make([]Result, len(mine))
	api := env.S3(region)
	each(len(mine), env.Fanout, func(i int) {
		b := mine[i]
		if b.err != nil {
			out[i] = Result{Resource: bucketARN(b.Name), Status: Error, Reason: b.err.Error()}
			return
		}
		out[i] = judge(ctx, api, b.Name)
		out[i].Resource = bucketARN(b.Name)
	})
	return out
}
