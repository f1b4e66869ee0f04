// Package notify holds the `notify` action: tell people that a playbook
// reached a point (containment done, approval needed, run failed) through
// an HTTP(S) webhook with a JSON body, or an SNS topic.
package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsperm"
)

// SNSPublisher is the one SDK call notify makes, with the SDK's own
// signature, so *sns.Client satisfies it as it is.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Register adds the notify action to r. publisher may be nil (no AWS
// configuration): steps that name a topic_arn then fail and say why, while
// webhooks still work.
func Register(r *engine.Registry, publisher SNSPublisher) {
	r.Register(newNotify(publisher))
}

// notify sends one message per attempt. It is not idempotent across
// retries: a receiver may see a message twice, which beats missing it.
type notify struct {
	sns  SNSPublisher
	http *http.Client
	now  func() time.Time
}

var _ engine.Action = (*notify)(nil)
var _ engine.Planner = (*notify)(nil)

func newNotify(publisher SNSPublisher) *notify {
	client := &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		// A redirected POST may turn into a GET, or carry the headers to
		// another host: report it instead of following it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &notify{sns: publisher, http: client, now: time.Now}
}

// calls are the API calls notify makes.
var calls = []string{"sns:Publish"}

func (*notify) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "notify",
		Summary: "send a message to a webhook (JSON POST) or an SNS topic",
		Params:  engine.ParamsOf[notifyParams](),
		Outputs: []engine.Output{
			{Name: "status", Type: engine.TypeInt, Doc: "the webhook's HTTP status (0 for SNS)"},
			{Name: "message_id", Type: engine.TypeString, Doc: "the SNS MessageId (empty for a webhook)"},
			{Name: "body_sha256", Type: engine.TypeString, Doc: "SHA-256 of the JSON body sent"},
		},
		Calls:       calls,
		Permissions: awsperm.ForCalls(calls),
		// It reaches people outside the evidence store: --dry-run must not send.
		Mutating: true,
	}
}

// Run builds the JSON body, keeps it as an artifact, and delivers it.
// Connection errors, timeouts, 429 and 5xx answers are retryable; any other
// refusal is not.
func (n *notify) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := parseParams(in.Params)
	if err != nil {
		return nil, err
	}
	if p.webhook == nil && n.sns == nil {
		return nil, fmt.Errorf("no SNS client to publish to %q: run firebreak with an AWS configuration (--region, --profile), or notify through a webhook", p.topicARN)
	}
	body, err := buildBody(in, p, n.now())
	if err != nil {
		return nil, err
	}
	sum, err := storeBody(ctx, in, body)
	if err != nil {
		return nil, err
	}
	out := engine.Outputs{"status": 0, "message_id": "", "body_sha256": sum}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if p.webhook != nil {
		err = n.postWebhook(ctx, in, p, body, out)
	} else {
		err = n.publishSNS(ctx, in, p, body, out)
	}
	return out, err
}

// event appends the delivery to the custody log.
func event(ctx context.Context, in *engine.StepInput, detail map[string]any) error {
	if err := in.Evidence.Event(context.WithoutCancel(ctx), "notification-sent", detail); err != nil {
		return fmt.Errorf("recording the notification in the custody log: %w", err)
	}
	return nil
}
