package notify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// snsToSQS makes a topic with an SQS queue subscribed, so a test can read
// back what was published.
func snsToSQS(t *testing.T, m *testenv.Moto) (topicARN, queueURL string) {
	t.Helper()
	ctx := testenv.Context(t)
	topic, err := sns.NewFromConfig(m.Config()).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("ir-alerts")})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	q := sqs.NewFromConfig(m.Config())
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ir-inbox")})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	_, err = sns.NewFromConfig(m.Config()).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"]),
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return aws.ToString(topic.TopicArn), aws.ToString(queue.QueueUrl)
}

func TestSNSDeliversThroughMoto(t *testing.T) {
	m := testenv.StartMoto(t)
	topicARN, queueURL := snsToSQS(t, m)
	ev := enginetest.NewEvidence()
	params := engine.Params{"topic_arn": topicARN, "message": "i-0abc isolated", "subject": "containment\ndone", "fields": map[string]any{"instance_id": "i-0abc"}}
	out, err := fixedNotify(sns.NewFromConfig(m.Config())).Run(testenv.Context(t), stepInput(params, ev))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	msg, err := sqs.NewFromConfig(m.Config()).ReceiveMessage(testenv.Context(t), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 5})
	if err != nil || len(msg.Messages) != 1 {
		t.Fatalf("ReceiveMessage: got %d messages, %v; want 1", len(msg.Messages), err)
	}
	var envelope struct{ MessageId, Subject, Message string }
	if err := json.Unmarshal([]byte(aws.ToString(msg.Messages[0].Body)), &envelope); err != nil {
		t.Fatalf("SQS body %q: %v", aws.ToString(msg.Messages[0].Body), err)
	}
	stored, _ := ev.Object("notification.json")
	if envelope.Message != string(stored) || !strings.Contains(envelope.Message, `"instance_id":"i-0abc"`) {
		t.Errorf("delivered message: got %q, want the stored body %q", envelope.Message, stored)
	}
	if envelope.MessageId == "" || envelope.MessageId != out["message_id"] || envelope.Subject != "containment done" {
		t.Errorf("delivered: got id %q subject %q, want id %v subject %q", envelope.MessageId, envelope.Subject, out["message_id"], "containment done")
	}
	if len(ev.Events()) != 1 || ev.Events()[0].Detail["message_id"] != out["message_id"] || ev.Events()[0].Detail["target"] != topicARN {
		t.Errorf("custody: got %+v, want one event with the MessageId and topic", ev.Events())
	}
}

func TestSNSMissingTopicIsNotRetryable(t *testing.T) {
	m := testenv.StartMoto(t)
	arn := "arn:aws:sns:us-east-1:123456789012:no-such-topic"
	_, err := fixedNotify(sns.NewFromConfig(m.Config())).Run(context.Background(), stepInput(engine.Params{"topic_arn": arn, "message": "m"}, nil))
	if err == nil || engine.IsRetryable(err) || !strings.HasPrefix(err.Error(), `sns:Publish to "`+arn+`"`) || !strings.HasSuffix(err.Error(), "check the topic exists and the caller may publish to it") {
		t.Fatalf("Run: got %v, want a non-retryable error naming the topic", err)
	}
}
