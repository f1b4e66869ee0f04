package awsapi

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

type recEvidence struct {
	events  []string
	details []map[string]any
	body    string
	fail    error
}

func (r *recEvidence) Put(_ context.Context, m engine.ArtifactMeta, rd io.Reader) (engine.Artifact, error) {
	b, _ := io.ReadAll(rd)
	r.body = string(b)
	return engine.Artifact{ID: m.Name}, r.fail
}
func (r *recEvidence) Record(context.Context, engine.Artifact) error { return r.fail }
func (r *recEvidence) Event(_ context.Context, e string, d map[string]any) error {
	r.events, r.details = append(r.events, e), append(r.details, d)
	return r.fail
}

func TestChangeAndGapRecordTheCall(t *testing.T) {
	ev := &recEvidence{}
	ctx := context.Background()
	if err := Change(ctx, ev, "ec2:CreateTags", map[string]any{"resource": "i-1"}); err != nil {
		t.Fatal(err)
	}
	if err := Gap(ctx, ev, "ec2:GetConsoleScreenshot", errors.New("not implemented"), nil); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ev.events, ",") != "aws-change,gap" || ev.details[0]["call"] != "ec2:CreateTags" || ev.details[0]["resource"] != "i-1" ||
		ev.details[1]["reason"] != "not implemented" {
		t.Errorf("got %v %v, want an aws-change then a gap with call and reason", ev.events, ev.details)
	}
	ev.fail = errors.New("disk full")
	if err := Change(ctx, ev, "ec2:CreateTags", nil); err == nil || !strings.Contains(err.Error(), "ec2:CreateTags") {
		t.Errorf("a failed custody write: got %v, want an error naming the call", err)
	}
}

func TestPutJSONKeepsTextAsItWas(t *testing.T) {
	ev := &recEvidence{}
	if _, err := PutJSON(context.Background(), ev, engine.ArtifactMeta{Name: "a.json"}, map[string]string{"user_data": "echo a > /tmp/b && c"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ev.body, `"echo a > /tmp/b && c"`) {
		t.Errorf("artifact: got %s, want the text unescaped", ev.body)
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
