package lambda

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

var (
	_ engine.Planner = (*containFunction)(nil)
	_ engine.Planner = (*releaseFunction)(nil)
)

// Plan lists the calls contain-function would make; with Check it reads
// the function (reads only) and says what a run would change.
func (a *containFunction) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	f := awsapi.PlanValue(in.Params["function"])
	d := &engine.PlanDetail{Calls: []string{
		"lambda:GetFunction, GetPolicy, GetFunctionConcurrency, ListAliases, GetFunctionUrlConfig " + f + " (recorded before any change)",
		"GET the deployed code from the pre-signed location GetFunction gives, checked against its CodeSha256",
		"lambda:TagResource " + f + " firebreak:case, firebreak:status=contained, firebreak:prev:*",
		"lambda:PutFunctionConcurrency " + f + " 0 (every invocation throttled)",
		"lambda:UpdateFunctionUrlConfig " + f + " AuthType AWS_IAM for each URL without authentication",
		"lambda:RemovePermission " + f + " for each statement that lets in everyone, another account or an organization",
	}}
	name, known := in.Params["function"].(string)
	if !in.Check || !known || a.api == nil {
		return d, nil
	}
	region, _ := in.Params["region"].(string)
	api := a.api(functionRegion(name, region))
	fn, err := api.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		d.Problems = append(d.Problems, fmt.Sprintf("reading function %q: %v", name, err))
		return d, nil
	}
	arn := aws.ToString(fn.Configuration.FunctionArn)
	live, err := readFunction(ctx, api, arn, fn.Tags)
	if err != nil {
		d.Problems = append(d.Problems, err.Error())
		return d, nil
	}
	d.Notes = append(d.Notes, describe(live)...)
	if fn.Code != nil && a.fetch != nil {
		if why := a.fetch.allowed(aws.ToString(fn.Code.Location)); why != "" {
			d.Notes = append(d.Notes, "the code would not be downloaded: "+why)
		}
	}
	return d, nil
}

// describe says what a plan found on the function.
func describe(f *liveFunction) []string {
	notes := []string{}
	if f.concurrency == nil {
		notes = append(notes, "no reserved concurrency: it would be set to 0")
	} else {
		notes = append(notes, fmt.Sprintf("reserved concurrency %d", *f.concurrency))
	}
	for q, u := range f.urls {
		if u.AuthType == types.FunctionUrlAuthTypeNone {
			notes = append(notes, "function URL "+qualifierTag(q)+" takes no authentication: it would be put behind IAM")
		}
	}
	for _, st := range f.statements {
		if why := grantsOutside(st, accountOfARN(f.arn)); why != "" {
			notes = append(notes, fmt.Sprintf("policy statement %v %s: it would be removed", st["Sid"], why))
		}
	}
	if _, ok := f.tags[prevTagConcurrency]; ok {
		notes = append(notes, "the function is contained already: its prev tags hold the state before")
	}
	return notes
}

// Plan lists the calls release-function would make; with Check it says
// whether there is a containment to undo.
func (a *releaseFunction) Plan(ctx context.Context, in *engine.PlanInput) (*engine.PlanDetail, error) {
	f := awsapi.PlanValue(in.Params["function"])
	d := &engine.PlanDetail{Calls: []string{
		"lambda:GetFunction, GetPolicy, GetFunctionConcurrency, ListAliases, GetFunctionUrlConfig " + f,
		"lambda:PutFunctionConcurrency or DeleteFunctionConcurrency " + f + " as recorded",
		"lambda:UpdateFunctionUrlConfig " + f + " AuthType NONE for the URLs that had none",
		"lambda:AddPermission " + f + " for each removed statement (from previous_state)",
		"lambda:UntagResource " + f + " firebreak:prev:*; TagResource firebreak:status=released",
	}}
	name, known := in.Params["function"].(string)
	if !in.Check || !known || a.api == nil {
		return d, nil
	}
	region, _ := in.Params["region"].(string)
	r := &fnRelease{api: a.api(functionRegion(name, region))}
	err := r.load(ctx, releaseFunctionParams{Function: name, PreviousState: in.Params.Map("previous_state")})
	switch {
	case err == errReleased:
		d.Notes = append(d.Notes, "released already: nothing to do")
	case err != nil:
		d.Problems = append(d.Problems, err.Error())
	default:
		d.Notes = append(d.Notes, fmt.Sprintf("would restore reserved concurrency %v and %d public URL(s)", concurrencyText(r.want.Concurrency), len(r.want.PublicURLs)))
	}
	return d, nil
}

func concurrencyText(n *int32) string {
	if n == nil {
		return "none"
	}
	return fmt.Sprint(*n)
}
