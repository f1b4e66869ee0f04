package lambda

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// releaseFunction undoes contain-function for a false positive: the
// reserved concurrency as it was, the public URLs without authentication
// again (same addresses), and the removed policy statements added back.
// The statements come from previous_state only (they do not fit in tags):
// without it, release names them in not_restored; a public URL's own
// permission is put back either way. It is idempotent.
type releaseFunction struct {
	api    func(region string) functionAPI
	region func(region string) string
}

var _ engine.Action = (*releaseFunction)(nil)

type releaseFunctionParams struct {
	Function      string         `param:"function,required" doc:"the function's name or ARN"`
	Region        string         `param:"region" default:"" doc:"the function's region; empty: the ARN's, else the run's default"`
	PreviousState map[string]any `param:"previous_state" doc:"contain-function's previous_state output (needed to add removed policy statements back); empty: the prev tags"`
}

var releaseFunctionCalls = []string{
	"lambda:GetFunction", "lambda:GetPolicy", "lambda:GetFunctionConcurrency", "lambda:ListAliases", "lambda:GetFunctionUrlConfig",
	"lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:UpdateFunctionUrlConfig", "lambda:AddPermission",
	"lambda:TagResource", "lambda:UntagResource",
}

func (*releaseFunction) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "release-function",
		Summary: "Undo contain-function (a false positive): reserved concurrency, public function URLs and removed policy statements as recorded",
		Params:  engine.ParamsOf[releaseFunctionParams](),
		Outputs: []engine.Output{
			{Name: "restored", Type: engine.TypeMap, Doc: "the state put back"},
			{Name: "substeps", Type: engine.TypeMap},
			{Name: "not_restored", Type: engine.TypeList, Doc: "what could not be put back, and why", Headline: true},
		},
		Calls:       releaseFunctionCalls,
		Permissions: awsperm.ForCalls(releaseFunctionCalls),
		Grants:      functionGrant(awsperm.ForCalls(releaseFunctionCalls)),
		Mutating:    true,
	}
}

// fnRelease is one release-function run.
type fnRelease struct {
	api         functionAPI
	ev          engine.Evidence
	parts       *awsapi.Parts
	live        *liveFunction
	want        *fnState
	notRestored []any
}

func (a *releaseFunction) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[releaseFunctionParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("release-function: %w", err)
	}
	r := &fnRelease{api: a.api(functionRegion(p.Function, p.Region)), ev: in.Evidence, parts: awsapi.NewParts(in.Evidence), notRestored: []any{}}
	err = r.load(ctx, p)
	if errors.Is(err, errReleased) {
		return engine.Outputs{"restored": map[string]any{}, "substeps": map[string]any{"all": "skipped: released already (tag firebreak:status=released)"},
			"not_restored": []any{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("release-function: %w (nothing was changed)", err)
	}
	r.restore(ctx)
	return engine.Outputs{"restored": r.want.asMap(), "substeps": r.parts.Map(), "not_restored": r.notRestored}, r.parts.Err("release-function")
}

// errReleased says a function was released already: its prev tags are
// gone and its status tag says released; a second release changes nothing.
var errReleased = errors.New("released already")

func (r *fnRelease) load(ctx context.Context, p releaseFunctionParams) error {
	fn, err := r.api.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(p.Function)})
	if err != nil {
		return fmt.Errorf("reading function %q: %w", p.Function, awsapi.Classify(err))
	}
	arn := aws.ToString(fn.Configuration.FunctionArn)
	if r.live, err = readFunction(ctx, r.api, arn, fn.Tags); err != nil {
		return err
	}
	if len(p.PreviousState) > 0 {
		s, err := fnStateFromMap(p.PreviousState)
		if err != nil || s.FunctionARN != arn {
			return fmt.Errorf("previous_state is not contain-function's state of %q (%v)", arn, err)
		}
		r.want = s
		return nil
	}
	s, ok := stateFromTags(r.live.tags)
	if !ok && r.live.tags[awsapi.TagStatus] == "released" {
		return errReleased
	}
	if !ok {
		return fmt.Errorf("function %q carries no firebreak containment state (tag %s): give previous_state, or it was never contained", arn, prevTagConcurrency)
	}
	s.FunctionARN = arn
	r.want = s
	return nil
}

func (r *fnRelease) restore(ctx context.Context) {
	arn := r.live.arn
	if sameInt(r.live.concurrency, r.want.Concurrency) {
		r.parts.Skip(ctx, "concurrency", "as recorded")
	} else {
		r.parts.Run(ctx, "concurrency", func() error { return putConcurrency(ctx, r.api, r.ev, arn, r.want.Concurrency) })
	}
	r.parts.Run(ctx, "function_urls", func() error { return r.restoreURLs(ctx) })
	r.parts.Run(ctx, "policy", func() error { return r.restorePolicy(ctx) })
	if !r.parts.OK() {
		r.parts.Skip(ctx, "tags", "kept while a part failed: a rerun reads them")
		return
	}
	r.parts.Run(ctx, "tags", func() error { return r.restoreTags(ctx) })
}

func sameInt(a, b *int32) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// restoreURLs takes authentication off the URLs that had none, and puts
// back the permission a public URL needs, when previous_state does not
// hold it.
func (r *fnRelease) restoreURLs(ctx context.Context) error {
	for _, q := range r.want.PublicURLs {
		u, ok := r.live.urls[q]
		if !ok {
			r.notRestored = append(r.notRestored, fmt.Sprintf("function URL %s: gone since containment", qualifierTag(q)))
			continue
		}
		if u.AuthType != types.FunctionUrlAuthTypeNone {
			if err := setURLAuth(ctx, r.api, r.ev, r.live.arn, q, types.FunctionUrlAuthTypeNone); err != nil {
				return err
			}
		}
		if r.hasPublicURLGrant(q) || r.recordedPublicURLGrant(q) {
			continue
		}
		st := map[string]any{"Sid": "FunctionURLAllowPublicAccess", "Action": "lambda:InvokeFunctionUrl", "Principal": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"lambda:FunctionUrlAuthType": "NONE"}}, qualifierKey: q}
		if err := r.addStatement(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// hasPublicURLGrant reports whether qualifier q's policy lets everyone
// invoke its URL.
func (r *fnRelease) hasPublicURLGrant(q string) bool {
	return slices.ContainsFunc(r.live.statements, func(st map[string]any) bool {
		p, err := permissionOf(st, r.live.arn)
		return err == nil && st[qualifierKey] == q && aws.ToString(p.Action) == "lambda:InvokeFunctionUrl" && aws.ToString(p.Principal) == "*"
	})
}

// recordedPublicURLGrant reports whether previous_state holds that grant:
// restorePolicy adds it back as it was.
func (r *fnRelease) recordedPublicURLGrant(q string) bool {
	return slices.ContainsFunc(r.want.Removed, func(st map[string]any) bool {
		p, err := permissionOf(st, r.live.arn)
		return err == nil && st[qualifierKey] == q && aws.ToString(p.Action) == "lambda:InvokeFunctionUrl" && aws.ToString(p.Principal) == "*"
	})
}

// restorePolicy adds back each removed statement that is not there.
func (r *fnRelease) restorePolicy(ctx context.Context) error {
	if r.want.FromTags {
		if sids := removedSids(r.live.tags); len(sids) > 0 {
			r.notRestored = append(r.notRestored, fmt.Sprintf("policy statements %q were removed: they are in contain-function's previous_state and its artifact; release with previous_state to add them back", sids))
		}
		return nil
	}
	for _, st := range r.want.Removed {
		sid, _ := st["Sid"].(string)
		if slices.ContainsFunc(r.live.statements, func(l map[string]any) bool { return l["Sid"] == sid && l[qualifierKey] == st[qualifierKey] }) {
			continue
		}
		if err := r.addStatement(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

func (r *fnRelease) addStatement(ctx context.Context, st map[string]any) error {
	in, err := permissionOf(st, r.live.arn)
	if err != nil {
		r.notRestored = append(r.notRestored, err.Error())
		return nil
	}
	if _, err := r.api.AddPermission(ctx, in); err != nil {
		return fmt.Errorf("statement %q: %w", aws.ToString(in.StatementId), awsapi.Classify(err))
	}
	return awsapi.Change(ctx, r.ev, "lambda:AddPermission", map[string]any{"function_arn": r.live.arn, "sid": aws.ToString(in.StatementId), "qualifier": aws.ToString(in.Qualifier)})
}

// restoreTags removes the prev tags and marks the function released; the
// case tag stays, so the function still says which case touched it.
func (r *fnRelease) restoreTags(ctx context.Context) error {
	var drop []string
	for _, k := range []string{prevTagConcurrency, prevTagPublicURLs, prevTagStatements} {
		if _, ok := r.live.tags[k]; ok {
			drop = append(drop, k)
		}
	}
	if len(drop) > 0 {
		if _, err := r.api.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String(r.live.arn), TagKeys: drop}); err != nil {
			return awsapi.Classify(err)
		}
		if err := awsapi.Change(ctx, r.ev, "lambda:UntagResource", map[string]any{"function_arn": r.live.arn, "tags": drop}); err != nil {
			return err
		}
	}
	if r.live.tags[awsapi.TagStatus] == "released" || r.live.tags[awsapi.TagCase] == "" {
		return nil
	}
	if _, err := r.api.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(r.live.arn), Tags: map[string]string{awsapi.TagStatus: "released"}}); err != nil {
		return awsapi.Classify(err)
	}
	return awsapi.Change(ctx, r.ev, "lambda:TagResource", map[string]any{"function_arn": r.live.arn, "tags": map[string]string{awsapi.TagStatus: "released"}})
}
