// Package lambda holds the actions for a compromised Lambda function:
// contain-function (record its configuration, policy and deployed code,
// then stop its invocations and close what lets others in) and
// release-function (undo that from the recorded state).
package lambda

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Register adds contain-function and release-function to r, sharing c's
// clients. The deployed code is downloaded from the URL Lambda gives,
// and only from AWS itself (or, with an endpoint override, that endpoint).
func Register(r *engine.Registry, c *awsapi.Clients) {
	api := func(region string) functionAPI { return c.Lambda(region) }
	r.Register(&containFunction{api: api, region: c.Region, fetch: &codeFetcher{client: &http.Client{Timeout: 10 * time.Minute}, endpoint: endpointOf(c.Config())}})
	r.Register(&releaseFunction{api: api, region: c.Region})
}

// endpointOf is the endpoint override's URL, or nil when calls go to AWS.
func endpointOf(cfg aws.Config) *url.URL {
	if cfg.BaseEndpoint == nil {
		return nil
	}
	u, err := url.Parse(*cfg.BaseEndpoint)
	if err != nil {
		return &url.URL{Host: "invalid"}
	}
	return u
}

// functionGrant narrows the Lambda permissions to functions (and their
// versions and aliases).
func functionGrant(calls []string) []engine.Grant {
	return []engine.Grant{{Statement: "LambdaFunctions", Actions: calls,
		Resource: []string{"arn:aws:lambda:*:*:function:*", "arn:aws:lambda:*:*:function:*:*"}}}
}

// functionAPI is what the actions need from Lambda; *lambda.Client has it.
type functionAPI interface {
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, opts ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	GetFunctionConcurrency(ctx context.Context, in *lambda.GetFunctionConcurrencyInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionConcurrencyOutput, error)
	ListAliases(ctx context.Context, in *lambda.ListAliasesInput, opts ...func(*lambda.Options)) (*lambda.ListAliasesOutput, error)
	GetFunctionUrlConfig(ctx context.Context, in *lambda.GetFunctionUrlConfigInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionUrlConfigOutput, error)
	PutFunctionConcurrency(ctx context.Context, in *lambda.PutFunctionConcurrencyInput, opts ...func(*lambda.Options)) (*lambda.PutFunctionConcurrencyOutput, error)
	DeleteFunctionConcurrency(ctx context.Context, in *lambda.DeleteFunctionConcurrencyInput, opts ...func(*lambda.Options)) (*lambda.DeleteFunctionConcurrencyOutput, error)
	UpdateFunctionUrlConfig(ctx context.Context, in *lambda.UpdateFunctionUrlConfigInput, opts ...func(*lambda.Options)) (*lambda.UpdateFunctionUrlConfigOutput, error)
	RemovePermission(ctx context.Context, in *lambda.RemovePermissionInput, opts ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
	AddPermission(ctx context.Context, in *lambda.AddPermissionInput, opts ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
	TagResource(ctx context.Context, in *lambda.TagResourceInput, opts ...func(*lambda.Options)) (*lambda.TagResourceOutput, error)
	UntagResource(ctx context.Context, in *lambda.UntagResourceInput, opts ...func(*lambda.Options)) (*lambda.UntagResourceOutput, error)
}
