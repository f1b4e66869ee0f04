package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
)

func TestNotifyBadParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params engine.Params
		want   string
	}{
		{"no destination", engine.Params{"message": "m"}, "no destination: give webhook (an https URL) or topic_arn (an SNS topic)"},
		{"both", engine.Params{"message": "m", "webhook": "https://h.example/x", "topic_arn": "arn:aws:sns:us-east-1:123456789012:ir"}, "both webhook and topic_arn given: use one notify step for each"},
		{"not a url", engine.Params{"message": "m", "webhook": "ftp://h.example/secret-token"}, "webhook is not an http or https URL: give one such as https://hooks.example.com/T000/B000"},
		{"bad arn", engine.Params{"message": "m", "topic_arn": "arn:aws:sqs:us-east-1:1:q"}, `topic_arn "arn:aws:sqs:us-east-1:1:q" is not an SNS topic ARN: want arn:aws:sns:REGION:ACCOUNT:NAME`},
		{"no sns client", engine.Params{"message": "m", "topic_arn": "arn:aws:sns:us-east-1:123456789012:ir"}, `no SNS client to publish to "arn:aws:sns:us-east-1:123456789012:ir": run firebreak with an AWS configuration (--region, --profile), or notify through a webhook`},
		{"field clash", engine.Params{"message": "m", "webhook": "https://h.example/x", "fields": map[string]any{"case_id": "other"}}, `fields: "case_id" is set by firebreak; rename the field`},
		{"bad header name", engine.Params{"message": "m", "webhook": "https://h.example/x", "headers": map[string]any{"Bad Header": "v"}}, `headers: "Bad Header" is not a valid HTTP header name`},
		{"zero timeout", engine.Params{"message": "m", "webhook": "https://h.example/x", "timeout": time.Duration(0)}, `timeout must be positive, e.g. "30s"`},
		{"no message", engine.Params{"webhook": "https://h.example/x"}, `parameter "message" is required but has no value`},
		{"secret header map of the wrong type", engine.Params{"message": "m", "webhook": "https://h.example/x", "headers": "Authorization: s3cret"},
			`secret parameter "headers": the value is not a valid map (not shown)`},
		{"header injection", engine.Params{"message": "m", "webhook": "https://h.example/x", "headers": map[string]any{"X-A": "v\r\nX-B: w"}}, `headers: the value of "X-A" holds a line break or NUL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := enginetest.NewEvidence()
			_, err := fixedNotify(nil).Run(context.Background(), stepInput(tt.params, ev))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Run: got %v, want %q", err, tt.want)
			}
			if engine.IsRetryable(err) {
				t.Errorf("Run: a parameter error was marked retryable")
			}
			if len(ev.Names()) != 0 {
				t.Errorf("artifacts: got %v, want none for a step that sent nothing", ev.Names())
			}
		})
	}
}

func TestSNSSubject(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "host contained", "host contained"},
		{"line breaks", "a\nb\tc", "a b c"},
		{"non-ascii", "héllo", "h?llo"},
		{"too long", strings.Repeat("x", 150), strings.Repeat("x", 99)},
		{"empty", "  ", ""},
	}
	for _, tt := range tests {
		if got := snsSubject(tt.in); got != tt.want {
			t.Errorf("%s: snsSubject(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestNotifyPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params engine.Params
		want   string
	}{
		{"webhook without token", engine.Params{"webhook": "https://user:pw@hooks.example.com/T0/B0?token=s3cret"}, "POST https://hooks.example.com/T0/…"},
		{"short path", engine.Params{"webhook": "http://127.0.0.1:8080/hook"}, "POST http://127.0.0.1:8080/hook"},
		{"sns", engine.Params{"topic_arn": "arn:aws:sns:eu-west-1:123456789012:ir"}, "sns:Publish arn:aws:sns:eu-west-1:123456789012:ir"},
		{"runtime", engine.Params{"topic_arn": engine.Unknown{Expr: "inputs.topic"}}, "sns:Publish <runtime: inputs.topic>"},
	}
	for _, tt := range tests {
		d, err := fixedNotify(nil).Plan(context.Background(), &engine.PlanInput{StepID: "s", Params: tt.params})
		if err != nil || len(d.Calls) != 1 || d.Calls[0] != tt.want {
			t.Errorf("%s: Plan got %+v %v, want call %q", tt.name, d, err, tt.want)
		}
	}
}

func TestRegister(t *testing.T) {
	r := engine.NewRegistry()
	Register(r, nil)
	if a, ok := r.Lookup("notify"); !ok || a.Spec().Name != "notify" {
		t.Fatalf("Lookup(notify): got %v %v, want the notify action", a, ok)
	}
	for _, name := range []string{"headers", "webhook"} {
		if p, _ := (&notify{}).Spec().Param(name); !p.Secret {
			t.Errorf("%s: not marked Secret", name)
		}
	}
}
