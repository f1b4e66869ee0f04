package iam

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// maxUserPages bounds the ListUsers fallback (100 users a page).
const maxUserPages = 100

// findOwner returns the user the key belongs to and that user's keys.
// GetAccessKeyLastUsed names the user in one call; when it cannot (an
// endpoint or policy that refuses it), every user's keys are searched.
func findOwner(ctx context.Context, api iamAPI, key string) (string, []types.AccessKeyMetadata, error) {
	out, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)})
	if err == nil && aws.ToString(out.UserName) != "" {
		user := aws.ToString(out.UserName)
		keys, err := userKeys(ctx, api, user)
		if err != nil {
			return "", nil, err
		}
		if keyStatus(keys, key) != "" {
			return user, keys, nil
		}
	}
	if awsapi.IsNotFound(err) {
		return "", nil, noOwner(key) // the key does not exist in this account
	}
	if err != nil && engine.IsRetryable(awsapi.Classify(err)) {
		return "", nil, fmt.Errorf("finding the user of access key %q: %w", key, awsapi.Classify(err))
	}
	return searchOwner(ctx, api, key)
}

func searchOwner(ctx context.Context, api iamAPI, key string) (string, []types.AccessKeyMetadata, error) {
	var marker *string
	for range maxUserPages {
		page, err := api.ListUsers(ctx, &iam.ListUsersInput{Marker: marker})
		if err != nil {
			return "", nil, fmt.Errorf("searching the users for access key %q: %w", key, awsapi.Classify(err))
		}
		for _, u := range page.Users {
			keys, err := userKeys(ctx, api, aws.ToString(u.UserName))
			if err != nil {
				return "", nil, err
			}
			if keyStatus(keys, key) != "" {
				return aws.ToString(u.UserName), keys, nil
			}
		}
		if !page.IsTruncated {
			return "", nil, noOwner(key)
		}
		marker = page.Marker
	}
	return "", nil, fmt.Errorf("searching the users for access key %q: more than %d pages of users", key, maxUserPages)
}

// errNoOwner is wrapped when no IAM user holds the key.
var errNoOwner = errors.New("no IAM user holds the key")

func noOwner(key string) error {
	if strings.HasPrefix(key, "ASIA") {
		return fmt.Errorf("access key %q: %w: it is temporary (ASIA...), it cannot be deactivated; revoke the sessions of the role or user that issued it with revoke-sessions", key, errNoOwner)
	}
	return fmt.Errorf("access key %q: %w in this account", key, errNoOwner)
}

func userKeys(ctx context.Context, api iamAPI, user string) ([]types.AccessKeyMetadata, error) {
	out, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return nil, fmt.Errorf("listing the access keys of user %q: %w", user, awsapi.Classify(err))
	}
	return out.AccessKeyMetadata, nil
}

// deleteLoginProfile removes the user's console password. A user without
// one is fine: there is nothing to remove (false).
func deleteLoginProfile(ctx context.Context, api iamAPI, ev engine.Evidence, user string) (bool, error) {
	_, err := api.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(user)})
	if awsapi.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("deleting the console password of user %q: %w", user, awsapi.Classify(err))
	}
	return true, awsapi.Change(ctx, ev, "iam:DeleteLoginProfile", map[string]any{"user": user})
}
