// Package awsapi builds the AWS SDK configuration and the service clients
// that every AWS action shares: one client per service and region, the
// standard credential chain, adaptive retries for throttling, and an
// endpoint override (AWS_ENDPOINT_URL / --endpoint-url) that every client
// honours, S3 in path style, which is how tests reach moto_server.
package awsapi

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Options are the global flags that shape the AWS configuration.
type Options struct {
	Region   string // --region; empty: the standard chain's
	Profile  string // --profile
	Endpoint string // --endpoint-url; empty: AWS_ENDPOINT_URL or AWS itself
	// MaxAttempts bounds the SDK's own retries (0: 5). The engine's step
	// retries come on top, for errors that outlast these.
	MaxAttempts int
}

// NewRetryer is the retryer every firebreak client uses: the SDK's adaptive
// mode (exponential backoff with jitter, and a client-side send rate that
// drops when AWS throttles and climbs back when it stops), as the host
// compromise issue asks, so a fleet run does not feed a throttling storm;
// but without the standard retry quota. That quota (500 tokens per client)
// made calls fail at once with "retry quota exceeded" when it ran dry, in
// the middle of an isolation: a responder's containment must wait and
// retry, not give up on a client-side counter.
//
// The cost, measured by `firebreak bench`: behind throttling that does not
// depend on our own rate (10% of calls at random), the adaptive rate makes
// a fleet run several times slower than the standard mode. Against real
// AWS, where throttling follows the caller's rate, slowing down is what
// ends it. A responder who knows the throttling is not theirs (another
// workload is hammering the account) sets AWS_RETRY_MODE=standard, the
// SDK's own switch, to keep the full rate: see RetryMode.
func NewRetryer(attempts int) aws.Retryer {
	return newRetryer(RetryMode(), attempts)
}

// RetryMode is "standard" when AWS_RETRY_MODE says so, else "adaptive".
func RetryMode() string {
	if os.Getenv("AWS_RETRY_MODE") == "standard" {
		return "standard"
	}
	return "adaptive"
}

func newRetryer(mode string, attempts int) aws.Retryer {
	noQuota := func(so *retry.StandardOptions) {
		so.MaxAttempts = attempts
		so.RateLimiter = ratelimit.None
	}
	if mode == "standard" {
		return retry.NewStandard(noQuota)
	}
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, noQuota)
	})
}

// LoadConfig resolves the SDK configuration from the standard chain
// (environment, shared files, SSO, instance role) and opts.
func LoadConfig(ctx context.Context, opts Options) (aws.Config, error) {
	attempts := opts.MaxAttempts
	if attempts == 0 {
		attempts = 5
	}
	load := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return NewRetryer(attempts) }),
	}
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Endpoint != "" {
		load = append(load, config.WithBaseEndpoint(opts.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: set --region or AWS_REGION")
	}
	return cfg, nil
}

// Clients hands out one SDK client per service and region, made on first
// use and shared by every step. It is safe for concurrent use.
type Clients struct {
	cfg     aws.Config
	mu      sync.Mutex
	clients map[string]any
}

// NewClients returns a client cache over cfg.
func NewClients(cfg aws.Config) *Clients {
	return &Clients{cfg: cfg, clients: map[string]any{}}
}

// Config returns the base configuration.
func (c *Clients) Config() aws.Config { return c.cfg }

// Region returns region, or the configuration's default when it is empty.
func (c *Clients) Region(region string) string {
	if region == "" {
		return c.cfg.Region
	}
	return region
}

func get[T any](c *Clients, service, region string, make func(aws.Config) T) T {
	region = c.Region(region)
	key := service + "/" + region
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[key]; ok {
		return cl.(T)
	}
	cfg := c.cfg.Copy()
	cfg.Region = region
	cl := make(cfg)
	c.clients[key] = cl
	return cl
}

// EC2 returns the EC2 client for region ("" = default).
func (c *Clients) EC2(region string) *ec2.Client {
	return get(c, "ec2", region, func(cfg aws.Config) *ec2.Client { return ec2.NewFromConfig(cfg) })
}

// IAM returns the IAM client (a global service).
func (c *Clients) IAM() *iam.Client {
	return get(c, "iam", "", func(cfg aws.Config) *iam.Client { return iam.NewFromConfig(cfg) })
}

// STS returns the STS client.
func (c *Clients) STS() *sts.Client {
	return get(c, "sts", "", func(cfg aws.Config) *sts.Client { return sts.NewFromConfig(cfg) })
}

// S3 returns the S3 client for region, in path style when an endpoint is
// overridden (moto, or any S3-compatible store).
func (c *Clients) S3(region string) *s3.Client {
	return get(c, "s3", region, func(cfg aws.Config) *s3.Client {
		return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
	})
}

// AutoScaling returns the Auto Scaling client for region.
func (c *Clients) AutoScaling(region string) *autoscaling.Client {
	return get(c, "autoscaling", region, func(cfg aws.Config) *autoscaling.Client { return autoscaling.NewFromConfig(cfg) })
}

// ELBv2 returns the Elastic Load Balancing v2 client for region.
func (c *Clients) ELBv2(region string) *elasticloadbalancingv2.Client {
	return get(c, "elbv2", region, func(cfg aws.Config) *elasticloadbalancingv2.Client {
		return elasticloadbalancingv2.NewFromConfig(cfg)
	})
}

// ELB returns the classic Elastic Load Balancing client for region.
func (c *Clients) ELB(region string) *elasticloadbalancing.Client {
	return get(c, "elb", region, func(cfg aws.Config) *elasticloadbalancing.Client {
		return elasticloadbalancing.NewFromConfig(cfg)
	})
}

// SNS returns the SNS client for region.
func (c *Clients) SNS(region string) *sns.Client {
	return get(c, "sns", region, func(cfg aws.Config) *sns.Client { return sns.NewFromConfig(cfg) })
}

// CloudTrail returns the CloudTrail client for region.
func (c *Clients) CloudTrail(region string) *cloudtrail.Client {
	return get(c, "cloudtrail", region, func(cfg aws.Config) *cloudtrail.Client { return cloudtrail.NewFromConfig(cfg) })
}

// Lambda returns the Lambda client for region.
func (c *Clients) Lambda(region string) *lambda.Client {
	return get(c, "lambda", region, func(cfg aws.Config) *lambda.Client { return lambda.NewFromConfig(cfg) })
}

// RDS returns the RDS client for region.
func (c *Clients) RDS(region string) *rds.Client {
	return get(c, "rds", region, func(cfg aws.Config) *rds.Client { return rds.NewFromConfig(cfg) })
}
