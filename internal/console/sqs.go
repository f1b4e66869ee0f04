package console

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQS is what the intake needs of a queue; *sqs.Client is one.
type SQS interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// PollSQS long-polls queueURL until ctx ends, taking every finding each
// message carries (an EventBridge event, or an SNS notification of any
// shape) as POST /api/findings does. A message is deleted only once its
// findings are durably recorded; a message that is not a finding is
// recorded as rejected (logged) and deleted too, so it does not come back
// forever. A message whose record could not be written stays in the queue
// and comes back after its visibility timeout.
func (s *Server) PollSQS(ctx context.Context, client SQS, queueURL string, wait time.Duration) error {
	if wait <= 0 || wait > 20*time.Second {
		wait = 20 * time.Second
	}
	backoff := time.Second
	for ctx.Err() == nil {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL),
			MaxNumberOfMessages: 10, WaitTimeSeconds: int32(wait / time.Second)})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			s.cfg.Logger.Warn("reading the findings queue", "queue", queueURL, "error", err, "retry_in", backoff.String())
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Minute)
			continue
		}
		backoff = time.Second
		for _, m := range out.Messages {
			if s.takeMessage(ctx, aws.ToString(m.Body), aws.ToString(m.MessageId)) {
				if _, err := client.DeleteMessage(context.WithoutCancel(ctx), &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
					s.cfg.Logger.Warn("deleting a taken message; it will come back and start nothing", "message", aws.ToString(m.MessageId), "error", err)
				}
			}
		}
	}
	return ctx.Err()
}

// takeMessage takes the findings of one message and reports whether it
// may be deleted: its findings are recorded, or it holds none to record.
func (s *Server) takeMessage(ctx context.Context, body, id string) bool {
	res, err := s.takeFindings(ctx, []byte(body), "sqs")
	var bad badRequest
	switch {
	case errors.As(err, &bad):
		s.cfg.Logger.Error("a message on the findings queue is not a finding; deleted", "message", id, "error", err)
		return true
	case err != nil:
		s.cfg.Logger.Error("a finding from the queue could not be recorded; the message stays", "message", id, "error", err, "taken", len(res))
		return false
	}
	return true
}
