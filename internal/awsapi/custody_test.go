package awsapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

func TestChangeAndGapRecordTheCall(t *testing.T) {
	ev := enginetest.NewEvidence()
	ctx := context.Background()
	if err := Change(ctx, ev, "ec2:CreateTags", map[string]any{"resource": "i-1"}); err != nil {
		t.Fatal(err)
	}
	if err := Gap(ctx, ev, "ec2:GetConsoleScreenshot", errors.New("not implemented"), nil); err != nil {
		t.Fatal(err)
	}
	evs := ev.Events()
	if len(evs) != 2 || evs[0].Name != "aws-change" || evs[1].Name != "gap" || evs[0].Detail["call"] != "ec2:CreateTags" ||
		evs[0].Detail["resource"] != "i-1" || evs[1].Detail["reason"] != "not implemented" {
		t.Errorf("got %+v, want an aws-change then a gap with call and reason", evs)
	}
	ev.EventErr = errors.New("disk full")
	if err := Change(ctx, ev, "ec2:CreateTags", nil); err == nil || !strings.Contains(err.Error(), "ec2:CreateTags") {
		t.Errorf("a failed custody write: got %v, want an error naming the call", err)
	}
}

func TestPutJSONKeepsTextAsItWas(t *testing.T) {
	ev := enginetest.NewEvidence()
	if _, err := PutJSON(context.Background(), ev, engine.ArtifactMeta{Name: "a.json"}, map[string]string{"user_data": "echo a > /tmp/b && c"}); err != nil {
		t.Fatal(err)
	}
	if body, _ := ev.Object("a.json"); !strings.Contains(string(body), `"echo a > /tmp/b && c"`) {
		t.Errorf("artifact: got %s, want the text unescaped", body)
	}
}

// TestIsUnansweredOnMoto: moto_server answers an action it lacks with an
// HTML 500, which IsUnanswered recognises; a real error document (an
// unknown instance) is not taken for one.
func TestIsUnansweredOnMoto(t *testing.T) {
	m := testenv.StartMoto(t)
	ctx := testenv.Context(t)
	c := ec2.NewFromConfig(m.Config())
	_, err := c.GetConsoleScreenshot(ctx, &ec2.GetConsoleScreenshotInput{InstanceId: aws.String("i-0123456789abcdef0")})
	if err == nil || !IsUnanswered(err) {
		t.Errorf("GetConsoleScreenshot on moto: IsUnanswered(%v) false, want true", err)
	}
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	if err == nil || IsUnanswered(err) || !IsNotFound(err) {
		t.Errorf("DescribeInstances of an unknown id: got %v, want a not-found error that is not 'unanswered'", err)
	}
}
