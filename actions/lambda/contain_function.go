package lambda

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// containFunction contains a compromised Lambda function after recording
// it: its configuration, resource policy, function URLs, concurrency and
// the deployed code (downloaded, hashed, checked against the hash Lambda
// gives). Then reserved concurrency 0 stops every invocation; a public
// function URL is switched to IAM authentication (same address, so a
// release gets it back exactly); statements of its policy that let in
// everyone, another account or an organization are removed.
//
// It is idempotent: the state before is kept in prev tags (written once)
// and what is already contained is left alone.
type containFunction struct {
	api    func(region string) functionAPI
	region func(region string) string
	fetch  *codeFetcher
}

var _ engine.Action = (*containFunction)(nil)

type containFunctionParams struct {
	Function      string `param:"function,required" doc:"the function's name or ARN"`
	Region        string `param:"region" default:"" doc:"the function's region; empty: the ARN's, else the run's default"`
	DownloadCode  bool   `param:"download_code" default:"true" doc:"download the deployed code into the case and check it against Lambda's hash"`
	MaxCodeBytes  int    `param:"max_code_bytes" default:"314572800" doc:"refuse to keep more code than this (Lambda's limit is 250 MiB unzipped)"`
	PublicURLs    bool   `param:"public_urls" default:"true" doc:"switch function URLs that take no authentication to IAM authentication"`
	OutsideGrants bool   `param:"outside_grants" default:"true" doc:"remove resource-policy statements that let in everyone, another account or an organization"`
}

var containFunctionCalls = []string{
	"lambda:GetFunction", "lambda:GetPolicy", "lambda:GetFunctionConcurrency", "lambda:ListAliases", "lambda:GetFunctionUrlConfig",
	"lambda:TagResource", "lambda:PutFunctionConcurrency", "lambda:UpdateFunctionUrlConfig", "lambda:RemovePermission",
}

func (*containFunction) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name: "contain-function",
		Summary: "Record a Lambda function's configuration, policy, URLs and deployed code (downloaded and hashed), then set its reserved " +
			"concurrency to 0, put its public URLs behind IAM and remove policy statements that grant other accounts or everyone",
		Params: engine.ParamsOf[containFunctionParams](),
		Outputs: []engine.Output{
			{Name: "function_arn", Type: engine.TypeString, Headline: true},
			{Name: "role_arn", Type: engine.TypeString, Doc: "the execution role, whose credentials the function's code can read"},
			{Name: "previous_state", Type: engine.TypeMap, Doc: "what was changed, as it was (release-function takes it)"},
			{Name: "code_sha256", Type: engine.TypeString, Doc: "hex SHA-256 of the deployed package as Lambda gives it", Headline: true},
			{Name: "code_artifact", Type: engine.TypeString, Doc: "the downloaded package; empty when it was not (see substeps)"},
			{Name: "substeps", Type: engine.TypeMap},
		},
		Calls:       containFunctionCalls,
		Permissions: awsperm.ForCalls(containFunctionCalls),
		Grants:      functionGrant(awsperm.ForCalls(containFunctionCalls)),
		Mutating:    true,
	}
}

func (a *containFunction) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := engine.Decode[containFunctionParams](in.Params)
	if err != nil {
		return nil, fmt.Errorf("contain-function: %w", err)
	}
	region := functionRegion(p.Function, p.Region)
	c := &fnContainment{p: p, in: in, api: a.api(region), parts: awsapi.NewParts(in.Evidence)}
	if err := c.record(ctx, a.region(region)); err != nil {
		return nil, fmt.Errorf("contain-function: %w (nothing was changed)", err)
	}
	c.code(ctx, a.fetch)
	c.apply(ctx)
	out := engine.Outputs{"function_arn": c.arn, "role_arn": aws.ToString(c.fn.Configuration.Role), "previous_state": c.state.asMap(), "code_sha256": hexOf(c.codeSHA),
		"code_artifact": c.codeURI, "substeps": c.parts.Map()}
	return out, c.parts.Err("contain-function")
}

// functionRegion is region, else the region of an ARN, else "" (the run's
// default).
func functionRegion(function, region string) string {
	if region != "" {
		return region
	}
	if f := strings.Split(function, ":"); strings.HasPrefix(function, "arn:") && len(f) > 3 {
		return f[3]
	}
	return ""
}

// accountOfARN is the account of a function ARN.
func accountOfARN(arn string) string {
	if f := strings.Split(arn, ":"); len(f) > 4 {
		return f[4]
	}
	return ""
}

// fnRecord is the pre-containment artifact.
type fnRecord struct {
	Function    *lambda.GetFunctionOutput `json:"function"`
	Policies    map[string]string         `json:"policies"` // "-" the function's own, else an alias's
	Concurrency *int32                    `json:"reserved_concurrency"`
	Aliases     []string                  `json:"aliases"`
	URLs        map[string]any            `json:"function_urls"`
	State       *fnState                  `json:"state"`
}
