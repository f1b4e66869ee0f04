package awsapi

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// CallerARN is the ARN the run acts as (sts:GetCallerIdentity): an
// action that denies principals uses it to spare, or to refuse cutting
// off, the run itself.
func CallerARN(ctx context.Context, c *Clients) (string, error) {
	out, err := c.STS().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("finding who the run acts as (sts:GetCallerIdentity): %w", Classify(err))
	}
	return aws.ToString(out.Arn), nil
}
