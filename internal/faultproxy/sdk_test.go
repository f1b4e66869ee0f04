package faultproxy

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// sdkCalls are one call per protocol family firebreak uses.
var sdkCalls = []struct {
	service string
	call    func(ctx context.Context, cfg aws.Config) error
}{
	{"ec2", func(ctx context.Context, cfg aws.Config) error {
		_, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		return err
	}},
	{"iam", func(ctx context.Context, cfg aws.Config) error {
		_, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
		return err
	}},
	{"sts", func(ctx context.Context, cfg aws.Config) error {
		_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}},
	{"s3", func(ctx context.Context, cfg aws.Config) error {
		_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
		return err
	}},
}

// TestSDKSeesRealThrottling: with every call throttled and no SDK retry,
// the SDK returns each service's real throttling code, its retryer counts
// it as throttling, and awsapi.Classify marks it retryable.
func TestSDKSeesRealThrottling(t *testing.T) {
	m := testenv.StartMoto(t)
	p := start(t, m.URL, 1, Rule{Throttle: 1})
	cfg := m.Config()
	cfg.BaseEndpoint = aws.String(p.URL)
	want := map[string]string{"ec2": "RequestLimitExceeded", "iam": "Throttling", "sts": "Throttling", "s3": "SlowDown"}
	for _, c := range sdkCalls {
		t.Run(c.service, func(t *testing.T) {
			err := c.call(testenv.Context(t), cfg)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != want[c.service] {
				t.Fatalf("got %v, want API error %s", err, want[c.service])
			}
			if !isThrottle(err) {
				t.Errorf("SDK retryer: %v is not throttling", err)
			}
			if got := awsapi.Classify(err); got == err {
				t.Errorf("awsapi.Classify(%v): not marked retryable", err)
			}
		})
	}
}

func isThrottle(err error) bool {
	for _, th := range retry.DefaultThrottles {
		if th.IsErrorThrottle(err) == aws.TrueTernary {
			return true
		}
	}
	return false
}

// TestSDKSeesServerErrors: 500s and 503s in each service's shape are what
// the SDK retries (retryable, not throttling).
func TestSDKSeesServerErrors(t *testing.T) {
	m := testenv.StartMoto(t)
	p := start(t, m.URL, 5, Rule{ServerError: 1})
	cfg := m.Config()
	cfg.BaseEndpoint = aws.String(p.URL)
	retryable := retry.IsErrorRetryables(retry.DefaultRetryables)
	for _, c := range sdkCalls {
		for range 4 { // both 500 and 503, by the seeded coin
			err := c.call(testenv.Context(t), cfg)
			if err == nil || retryable.IsErrorRetryable(err) != aws.TrueTernary {
				t.Errorf("%s: got %v, want an error the SDK retries", c.service, err)
			}
		}
	}
}

// TestSDKThroughProxyReachesMoto: without faults the proxy is transparent,
// S3 uploads (aws-chunked, checksums) included, and the log says what
// changed state.
func TestSDKThroughProxyReachesMoto(t *testing.T) {
	m := testenv.StartMoto(t)
	p := start(t, m.URL, 1)
	cfg := m.Config()
	cfg.BaseEndpoint = aws.String(p.URL)
	ctx := testenv.Context(t)
	api := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("evidence")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	body := strings.Repeat("evidence ", 10000)
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("evidence"), Key: aws.String("c/a.txt"), Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("evidence"), Key: aws.String("c/a.txt")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != body {
		t.Errorf("object read back: %d bytes, want the %d written", len(got), len(body))
	}
	for _, c := range sdkCalls {
		if err := c.call(ctx, cfg); err != nil {
			t.Errorf("%s through the proxy: %v", c.service, err)
		}
	}
	var ops []string
	for _, c := range settled(t, p) {
		if c.Mutating {
			ops = append(ops, c.Service+":"+c.Operation)
		}
	}
	if strings.Join(ops, ",") != "s3:CreateBucket,s3:PutObject" || p.Mutations() != 2 {
		t.Errorf("mutating calls: got %v (%d), want s3:CreateBucket,s3:PutObject", ops, p.Mutations())
	}
}
