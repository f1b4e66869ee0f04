package lambda

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// fnContainment is one contain-function run.
type fnContainment struct {
	p       containFunctionParams
	in      *engine.StepInput
	api     functionAPI
	parts   *awsapi.Parts
	fn      *lambda.GetFunctionOutput
	arn     string
	live    *liveFunction
	state   *fnState
	codeSHA string
	codeURI string
}

// liveFunction is what contain-function and release-function read of a
// function before changing it.
type liveFunction struct {
	arn         string
	tags        map[string]string
	concurrency *int32
	policies    map[string]string // qualifier ("" the function) -> its resource policy
	statements  []map[string]any  // every qualifier's, each with its qualifier under qualifierKey
	aliases     []string
	urls        map[string]*lambda.GetFunctionUrlConfigOutput // qualifier ("" the function) -> its URL
}

// isNotFound is Lambda's "nothing configured" (no policy, no URL).
func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// readFunction reads the function's policy, concurrency, aliases and
// URLs (every qualifier's).
func readFunction(ctx context.Context, api functionAPI, arn string, tags map[string]string) (*liveFunction, error) {
	f := &liveFunction{arn: arn, tags: tags, urls: map[string]*lambda.GetFunctionUrlConfigOutput{}, policies: map[string]string{}}
	conc, err := api.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("reading the concurrency of %q: %w", arn, awsapi.Classify(err))
	}
	f.concurrency = conc.ReservedConcurrentExecutions
	in := &lambda.ListAliasesInput{FunctionName: aws.String(arn)}
	for {
		out, err := api.ListAliases(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing the aliases of %q: %w", arn, awsapi.Classify(err))
		}
		for _, a := range out.Aliases {
			f.aliases = append(f.aliases, aws.ToString(a.Name))
		}
		if in.Marker = out.NextMarker; in.Marker == nil {
			break
		}
	}
	for _, q := range append([]string{""}, f.aliases...) {
		if err := f.readPolicy(ctx, api, q); err != nil {
			return nil, err
		}
		u, err := api.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(arn), Qualifier: qualifier(q)})
		switch {
		case isNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("reading the function URL of %q %s: %w", arn, q, awsapi.Classify(err))
		default:
			f.urls[q] = u
		}
	}
	return f, nil
}

// qualifierKey marks, in a statement read, the qualifier whose policy
// holds it ("" the function's own); it is not part of the statement.
const qualifierKey = "firebreak:qualifier"

// readPolicy reads the resource policy of the function or one alias: an
// alias has a policy of its own, and a grant there lets in as well.
func (f *liveFunction) readPolicy(ctx context.Context, api functionAPI, q string) error {
	pol, err := api.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(f.arn), Qualifier: qualifier(q)})
	switch {
	case isNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading the policy of %q %s: %w", f.arn, qualifierTag(q), awsapi.Classify(err))
	}
	f.policies[qualifierTag(q)] = aws.ToString(pol.Policy)
	sts, err := statementsOf(aws.ToString(pol.Policy))
	if err != nil {
		return err
	}
	for _, st := range sts {
		st[qualifierKey] = q
		f.statements = append(f.statements, st)
	}
	return nil
}

func qualifier(q string) *string {
	if q == "" {
		return nil
	}
	return aws.String(q)
}

// record reads the function and stores it, with the state before, as an
// artifact and as prev tags, before the first change.
func (c *fnContainment) record(ctx context.Context, region string) error {
	fn, err := c.api.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(c.p.Function)})
	if err != nil {
		return fmt.Errorf("reading function %q: %w", c.p.Function, awsapi.Classify(err))
	}
	c.fn, c.arn = fn, aws.ToString(fn.Configuration.FunctionArn)
	c.codeSHA = aws.ToString(fn.Configuration.CodeSha256)
	if c.live, err = readFunction(ctx, c.api, c.arn, fn.Tags); err != nil {
		return err
	}
	c.state = c.stateBefore(region)
	urls := map[string]any{}
	for q, u := range c.live.urls {
		urls[qualifierTag(q)] = map[string]any{"url": aws.ToString(u.FunctionUrl), "auth_type": string(u.AuthType), "cors": u.Cors, "invoke_mode": string(u.InvokeMode)}
	}
	fn.Code = redactLocation(fn.Code)
	rec := &fnRecord{Function: fn, Policies: c.live.policies, Concurrency: c.live.concurrency, Aliases: c.live.aliases, URLs: urls, State: c.state}
	if _, err := awsapi.PutJSON(ctx, c.in.Evidence, engine.ArtifactMeta{Name: engine.ArtifactName("pre-containment-state", ".json", c.in),
		Kind: "function-state", Source: map[string]string{"function_arn": c.arn, "region": region}}, rec); err != nil {
		return err
	}
	return c.tag(ctx)
}

// redactLocation keeps the code's location without its query: a
// pre-signed URL's signature is a credential for ten minutes.
func redactLocation(code *types.FunctionCodeLocation) *types.FunctionCodeLocation {
	if code == nil || code.Location == nil {
		return code
	}
	cp := *code
	loc := aws.ToString(code.Location)
	if i := strings.IndexByte(loc, '?'); i >= 0 {
		loc = loc[:i] + "?(signature removed)"
	}
	cp.Location = aws.String(loc)
	return &cp
}

// stateBefore is the state before containment: the function as it is, or
// as its prev tags say when an earlier run contained it.
func (c *fnContainment) stateBefore(region string) *fnState {
	s, tagged := stateFromTags(c.live.tags)
	if !tagged {
		s = &fnState{Concurrency: c.live.concurrency, PublicURLs: []string{}}
		for q, u := range c.live.urls {
			if u.AuthType == types.FunctionUrlAuthTypeNone {
				s.PublicURLs = append(s.PublicURLs, q)
			}
		}
	}
	s.FunctionARN, s.Region, s.Removed = c.arn, region, []map[string]any{}
	if c.p.OutsideGrants {
		for _, st := range c.live.statements {
			if grantsOutside(st, accountOfARN(c.arn)) != "" {
				s.Removed = append(s.Removed, st)
			}
		}
	}
	return s
}

// tag writes the case and prev tags, a prev tag only where none is.
func (c *fnContainment) tag(ctx context.Context) error {
	add := map[string]string{}
	want := c.state.prevTags()
	want[awsapi.TagCase] = c.in.CaseID
	for k, v := range want {
		if _, ok := c.live.tags[k]; !ok {
			add[k] = v
		}
	}
	if c.live.tags[awsapi.TagStatus] != "contained" {
		add[awsapi.TagStatus] = "contained"
	}
	if len(add) == 0 {
		return nil
	}
	if _, err := c.api.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(c.arn), Tags: add}); err != nil {
		return fmt.Errorf("recording the pre-containment state in the tags of %q: %w", c.arn, awsapi.Classify(err))
	}
	maps.Copy(c.live.tags, add)
	return awsapi.Change(ctx, c.in.Evidence, "lambda:TagResource", map[string]any{"function_arn": c.arn, "tags": add})
}

// code keeps the deployed package. Code held elsewhere (an image in ECR,
// a location firebreak does not fetch from) is a recorded gap, not a
// failure; a download that fails is.
func (c *fnContainment) code(ctx context.Context, fetch *codeFetcher) {
	loc := c.fn.Code
	switch {
	case !c.p.DownloadCode:
		c.parts.Skip(ctx, "code", "not asked for (download_code: false)")
		return
	case loc != nil && aws.ToString(loc.RepositoryType) == "ECR":
		why := fmt.Errorf("%w: the function is a container image %s (resolved %s): pull it from ECR by its digest", errCodeElsewhere, aws.ToString(loc.ImageUri), aws.ToString(loc.ResolvedImageUri))
		c.gap(ctx, why)
		return
	case loc == nil || aws.ToString(loc.Location) == "":
		c.gap(ctx, fmt.Errorf("%w: GetFunction gave no code location", errCodeElsewhere))
		return
	}
	art, err := fetch.store(ctx, c.in, aws.ToString(loc.Location), c.codeSHA, int64(c.p.MaxCodeBytes), map[string]string{"function_arn": c.arn})
	c.codeURI = art.URI
	if errors.Is(err, errCodeElsewhere) {
		c.gap(ctx, err)
		return
	}
	c.parts.Run(ctx, "code", func() error { return err })
}

// gap records code not downloaded as a custody gap and a skipped part.
func (c *fnContainment) gap(ctx context.Context, why error) {
	if err := awsapi.Gap(ctx, c.in.Evidence, "lambda:GetFunction code", why, map[string]any{"function_arn": c.arn}); err != nil {
		c.parts.Fail(ctx, "code", err)
		return
	}
	c.parts.Skip(ctx, "code", why.Error()+" (recorded as a gap)")
}

// apply makes each change not made yet; a part that fails stops no other.
func (c *fnContainment) apply(ctx context.Context) {
	if c.live.concurrency != nil && *c.live.concurrency == 0 {
		c.parts.Skip(ctx, "concurrency", "already 0")
	} else {
		c.parts.Run(ctx, "concurrency", func() error { return putConcurrency(ctx, c.api, c.in.Evidence, c.arn, aws.Int32(0)) })
	}
	c.applyURLs(ctx)
	c.applyPolicy(ctx)
}

// putConcurrency sets the reserved concurrency, or takes it away (nil),
// and records the change.
func putConcurrency(ctx context.Context, api functionAPI, ev engine.Evidence, arn string, n *int32) error {
	if n == nil {
		if _, err := api.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String(arn)}); err != nil {
			return awsapi.Classify(err)
		}
		return awsapi.Change(ctx, ev, "lambda:DeleteFunctionConcurrency", map[string]any{"function_arn": arn})
	}
	if _, err := api.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(arn), ReservedConcurrentExecutions: n}); err != nil {
		return awsapi.Classify(err)
	}
	return awsapi.Change(ctx, ev, "lambda:PutFunctionConcurrency", map[string]any{"function_arn": arn, "reserved_concurrent_executions": *n})
}

func (c *fnContainment) applyURLs(ctx context.Context) {
	var public []string
	for q, u := range c.live.urls {
		if u.AuthType == types.FunctionUrlAuthTypeNone {
			public = append(public, q)
		}
	}
	switch {
	case !c.p.PublicURLs:
		c.parts.Skip(ctx, "function_urls", "not asked for (public_urls: false)")
		return
	case len(public) == 0:
		c.parts.Skip(ctx, "function_urls", "no function URL without authentication")
		return
	}
	c.parts.Run(ctx, "function_urls", func() error {
		for _, q := range public {
			if err := setURLAuth(ctx, c.api, c.in.Evidence, c.arn, q, types.FunctionUrlAuthTypeAwsIam); err != nil {
				return err
			}
		}
		return nil
	})
}

// setURLAuth switches a function URL's authentication; the URL keeps its
// address.
func setURLAuth(ctx context.Context, api functionAPI, ev engine.Evidence, arn, q string, auth types.FunctionUrlAuthType) error {
	if _, err := api.UpdateFunctionUrlConfig(ctx, &lambda.UpdateFunctionUrlConfigInput{FunctionName: aws.String(arn), Qualifier: qualifier(q), AuthType: auth}); err != nil {
		return fmt.Errorf("function URL %s: %w", qualifierTag(q), awsapi.Classify(err))
	}
	return awsapi.Change(ctx, ev, "lambda:UpdateFunctionUrlConfig", map[string]any{"function_arn": arn, "qualifier": q, "auth_type": string(auth)})
}

func (c *fnContainment) applyPolicy(ctx context.Context) {
	var remove []map[string]any
	for _, st := range c.live.statements {
		if grantsOutside(st, accountOfARN(c.arn)) != "" {
			remove = append(remove, st)
		}
	}
	switch {
	case !c.p.OutsideGrants:
		c.parts.Skip(ctx, "policy", "not asked for (outside_grants: false)")
		return
	case len(remove) == 0:
		c.parts.Skip(ctx, "policy", "no statement lets in everyone, another account or an organization")
		return
	}
	c.parts.Run(ctx, "policy", func() error {
		for _, st := range remove {
			sid, _ := st["Sid"].(string)
			q, _ := st[qualifierKey].(string)
			in := &lambda.RemovePermissionInput{FunctionName: aws.String(c.arn), StatementId: aws.String(sid), Qualifier: qualifier(q)}
			if _, err := c.api.RemovePermission(ctx, in); err != nil && !isNotFound(err) {
				return fmt.Errorf("statement %q: %w", sid, awsapi.Classify(err))
			}
			if err := awsapi.Change(ctx, c.in.Evidence, "lambda:RemovePermission", map[string]any{"function_arn": c.arn, "sid": sid,
				"why": grantsOutside(st, accountOfARN(c.arn)), "statement": st}); err != nil {
				return err
			}
		}
		return nil
	})
}
