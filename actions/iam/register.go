// Package iam holds the key-compromise actions: disable-key and
// revoke-sessions, and the session-revoking policy isolate shares.
package iam

import (
	"github.com/firebreak-ir/firebreak/internal/revoke"

	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// Register adds disable-key and revoke-sessions to r; they share c's
// clients and judge "the caller" by c's credentials.
func Register(r *engine.Registry, c *awsapi.Clients) {
	id := func(ctx context.Context) (callerInfo, error) { return callerOf(ctx, c) }
	r.Register(&disableKey{iam: c.IAM(), trail: func(region string) trailAPI { return c.CloudTrail(region) }, region: c.Region, caller: id, now: time.Now})
	r.Register(&revokeSessions{iam: c.IAM(), caller: id, now: time.Now})
}

// iamAPI is what the actions need from IAM; *iam.Client has it.
type iamAPI interface {
	revoke.RolePutter
	revoke.UserPutter
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, opts ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListUsers(ctx context.Context, in *iam.ListUsersInput, opts ...func(*iam.Options)) (*iam.ListUsersOutput, error)
	ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, opts ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, opts ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteLoginProfile(ctx context.Context, in *iam.DeleteLoginProfileInput, opts ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error)
	ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, opts ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput, opts ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	ListUserPolicies(ctx context.Context, in *iam.ListUserPoliciesInput, opts ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error)
	GetUserPolicy(ctx context.Context, in *iam.GetUserPolicyInput, opts ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, opts ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)
	GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetUser(ctx context.Context, in *iam.GetUserInput, opts ...func(*iam.Options)) (*iam.GetUserOutput, error)
}

// trailAPI is what disable-key needs from CloudTrail.
type trailAPI interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

// callerInfo is who the run acts as: the access key its credentials use
// and the ARN sts:GetCallerIdentity gives.
type callerInfo struct {
	AccessKeyID string
	ARN         string
}

func callerOf(ctx context.Context, c *awsapi.Clients) (callerInfo, error) {
	var info callerInfo
	if cfg := c.Config(); cfg.Credentials != nil {
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return info, fmt.Errorf("reading the credentials in use: %w", err)
		}
		info.AccessKeyID = creds.AccessKeyID
	}
	out, err := c.STS().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return info, fmt.Errorf("finding who the run acts as (sts:GetCallerIdentity): %w", awsapi.Classify(err))
	}
	info.ARN = aws.ToString(out.Arn)
	return info, nil
}

// isUser reports whether the caller acts as the IAM user name: its ARN
// ends in ":user/[path/]NAME".
func (c callerInfo) isUser(name string) bool {
	_, rest, ok := strings.Cut(c.ARN, ":user/")
	return ok && name != "" && rest[strings.LastIndex(rest, "/")+1:] == name
}

// isRole reports whether the caller is a session of the role name: its
// ARN reads ":assumed-role/NAME/SESSION".
func (c callerInfo) isRole(name string) bool {
	return revoke.ActsAsRole(c.ARN, name)
}
