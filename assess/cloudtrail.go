package assess

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

const createTrail = "aws cloudtrail create-trail --name firebreak-trail --s3-bucket-name LOG_BUCKET --is-multi-region-trail " +
	"--enable-log-file-validation && aws cloudtrail start-logging --name firebreak-trail"

// The CloudTrail checks are account-wide: they look at every trail seen from
// the assessed regions (multi-region trails show in each, counted once).
func registerCloudTrail(r *Registry) {
	r.Register(Check{ID: "cloudtrail.multi-region", Family: "cloudtrail", Title: "A multi-region CloudTrail trail exists", Severity: High, Scope: Global,
		Description: "A multi-region trail records API calls in every region, including those an intruder picks because nobody watches them.",
		Run:         checkMultiRegion})
	r.Register(Check{ID: "cloudtrail.log-validation", Family: "cloudtrail", Title: "CloudTrail log file validation is on", Severity: Medium, Scope: Global,
		Description: "Log file validation signs digests of the log files, so tampering with them can be proven.",
		Run:         forTrails(judgeValidation)})
	r.Register(Check{ID: "cloudtrail.logging", Family: "cloudtrail", Title: "CloudTrail trails are logging", Severity: High, Scope: Global,
		Description: "A trail whose logging is stopped records nothing (GetTrailStatus IsLogging).",
		Run:         forTrails(judgeTrailLogging)})
}

// listTrails returns every trail visible from the assessed regions, once
// each, sorted by ARN. A region that cannot be listed is an error: a trail
// could hide there.
func (e *Env) listTrails(ctx context.Context) ([]types.Trail, error) {
	return e.trails.get(func() ([]types.Trail, error) {
		regions := e.regions
		if len(regions) == 0 {
			regions = []string{e.HomeRegion}
		}
		found := make([][]types.Trail, len(regions))
		errs := make([]error, len(regions))
		each(len(regions), e.Fanout, func(i int) {
			out, err := e.CloudTrail(regions[i]).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", regions[i], err)
				return
			}
			found[i] = out.TrailList
		})
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		var ts []types.Trail
		for _, list := range found {
			for _, t := range list {
				if arn := aws.ToString(t.TrailARN); !seen[arn] {
					seen[arn] = true
					ts = append(ts, t)
				}
			}
		}
		sort.Slice(ts, func(i, j int) bool { return aws.ToString(ts[i].TrailARN) < aws.ToString(ts[j].TrailARN) })
		return ts, nil
	})
}

func checkMultiRegion(ctx context.Context, env *Env, _ string) []Result {
	ts, err := env.listTrails(ctx)
	if err != nil {
		return []Result{errored("cloudtrail", "cloudtrail:DescribeTrails", err)}
	}
	var multi []string
	for _, t := range ts {
		if aws.ToBool(t.IsMultiRegionTrail) {
			multi = append(multi, aws.ToString(t.Name))
		}
	}
	if len(multi) > 0 {
		return []Result{passed("cloudtrail", "multi-region trail(s): "+strings.Join(multi, ", "))}
	}
	if len(ts) == 0 {
		return []Result{failed("cloudtrail", "no trail at all", createTrail)}
	}
	return []Result{failed("cloudtrail", fmt.Sprintf("%d trail(s), none multi-region", len(ts)),
		fmt.Sprintf("aws cloudtrail update-trail --name %s --is-multi-region-trail", aws.ToString(ts[0].Name)))}
}

// forTrails judges each trail; no trail at all fails, as nothing is logged.
func forTrails(judge func(ctx context.Context, env *Env, t types.Trail) Result) func(context.Context, *Env, string) []Result {
	return func(ctx context.Context, env *Env, _ string) []Result {
		ts, err := env.listTrails(ctx)
		if err != nil {
			return []Result{errored("cloudtrail", "cloudtrail:DescribeTrails", err)}
		}
		if len(ts) == 0 {
			return []Result{failed("cloudtrail", "no trail at all", createTrail)}
		}
		out := make([]Result, len(ts))
		each(len(ts), env.Fanout, func(i int) {
			out[i] = judge(ctx, env, ts[i])
			out[i].Resource, out[i].Region = aws.ToString(ts[i].TrailARN), aws.ToString(ts[i].HomeRegion)
		})
		return out
	}
}

func judgeValidation(_ context.Context, _ *Env, t types.Trail) Result {
	if aws.ToBool(t.LogFileValidationEnabled) {
		return passed("", "log file validation is on")
	}
	return failed("", "log file validation is off",
		fmt.Sprintf("aws cloudtrail update-trail --name %s --enable-log-file-validation", aws.ToString(t.Name)))
}

// judgeTrailLogging asks the trail's home region: only it answers GetTrailStatus
// for a trail by name everywhere.
func judgeTrailLogging(ctx context.Context, env *Env, t types.Trail) Result {
	home := aws.ToString(t.HomeRegion)
	if home == "" {
		home = env.HomeRegion
	}
	st, err := env.CloudTrail(home).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: t.TrailARN})
	if err != nil {
		return errored("", "cloudtrail:GetTrailStatus", err)
	}
	if aws.ToBool(st.IsLogging) {
		return passed("", "the trail is logging")
	}
	return failed("", "logging is stopped on this trail",
		fmt.Sprintf("aws cloudtrail start-logging --name %s --region %s", aws.ToString(t.Name), home))
}
