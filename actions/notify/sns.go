package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
)

// publishSNS publishes body to the topic, in the topic's own region.
func (n *notify) publishSNS(ctx context.Context, in *engine.StepInput, p *params, body []byte, out engine.Outputs) error {
	input := &sns.PublishInput{
		TopicArn:          aws.String(p.topicARN),
		Message:           aws.String(string(body)),
		MessageAttributes: attributes(in),
	}
	if s := snsSubject(p.subject); s != "" {
		input.Subject = aws.String(s)
	}
	region := topicRegion(p.topicARN)
	res, err := n.sns.Publish(ctx, input, func(o *sns.Options) { o.Region = region })
	if err != nil {
		err = awsapi.Classify(fmt.Errorf("sns:Publish to %q: %w", p.topicARN, err))
		if !engine.IsRetryable(err) {
			return fmt.Errorf("%w; check the topic exists and the caller may publish to it", err)
		}
		if parentStopped(ctx) {
			return fmt.Errorf("sns:Publish to %q stopped: %w", p.topicARN, context.Cause(ctx))
		}
		return err
	}
	id := aws.ToString(res.MessageId)
	out["message_id"] = id
	return event(ctx, in, map[string]any{"target": p.topicARN, "message_id": id, "body_sha256": out["body_sha256"]})
}

// attributes let subscribers filter on the case and run. SNS refuses an
// empty attribute value, so empty ones are left out.
func attributes(in *engine.StepInput) map[string]types.MessageAttributeValue {
	m := map[string]types.MessageAttributeValue{}
	for k, v := range map[string]string{"case_id": in.CaseID, "run_id": in.RunID, "step_id": in.StepID} {
		if v != "" {
			m[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	return m
}

// snsSubject makes subject fit what SNS takes (ASCII, no control
// characters, under 100 characters) rather than failing a notification in
// the middle of an incident over its title.
func snsSubject(subject string) string {
	var b strings.Builder
	for _, r := range subject {
		switch {
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		case r >= 0x80:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.TrimSpace(b.String())
	if len(s) > 99 {
		s = strings.TrimSpace(s[:99])
	}
	return s
}
