package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// TestNotifySNSTellsTheChannel runs examples/notify-sns.yaml with the topic
// subscribed by an HTTP endpoint on 127.0.0.1, to which moto delivers.
func TestNotifySNSTellsTheChannel(t *testing.T) {
	hw := newHostWorld(t)
	ctx := testenv.Context(t)
	got := make(chan map[string]any, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		if json.Unmarshal(body, &m) == nil && m["Type"] == "Notification" {
			got <- m
		}
	}))
	defer srv.Close()
	client := sns.NewFromConfig(hw.cfg)
	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("oncall")})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	if _, err := client.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(srv.URL)}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	h := hw.runExample(t, "notify-sns", map[string]any{"topic_arn": aws.ToString(topic.TopicArn)})
	h.wantStatuses(t, map[string]engine.StepStatus{"isolate": engine.StatusSucceeded, "tell": engine.StatusSucceeded, "log": engine.StatusSucceeded})
	// A bound against a hang, not a timing assertion: moto posts before
	// Publish returns, so the message is already queued here.
	select {
	case m := <-got:
		msg, _ := m["Message"].(string)
		if !strings.Contains(msg, hw.world.InstanceID) || !strings.Contains(msg, "succeeded") {
			t.Errorf("notification: got %q, want the instance id and the isolation status", msg)
		}
	case <-time.After(time.Minute):
		t.Fatalf("no notification reached the subscriber")
	}
}
