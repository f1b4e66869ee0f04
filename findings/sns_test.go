package findings

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestParseSNSDeliveries: a finding that came through SNS (the
// notification, a Lambda's SNS event, a Lambda's SQS event from a queue
// subscribed to the topic) gives what the event alone gives, and keeps the
// whole delivery as its raw document.
func TestParseSNSDeliveries(t *testing.T) {
	direct, err := Parse(fixture(t, "guardduty-backdoor-c2.json"))
	if err != nil {
		t.Fatal(err)
	}
	asff, err := Parse(fixture(t, "securityhub-asff-s3-exfiltration.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file, via string
		want      *Finding
	}{
		{"sns-notification-backdoor-c2.json", ViaSNS, direct},
		{"lambda-sns-backdoor-c2.json", ViaLambdaSNS, direct},
		{"lambda-sqs-sns-backdoor-c2.json", ViaLambdaSQS, direct},
		{"sns-notification-asff-s3-exfiltration.json", ViaSNS, asff},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := fixture(t, tt.file)
			f, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Via != tt.via || f.Shape != tt.want.Shape {
				t.Errorf("via %q shape %q, want %q %q", f.Via, f.Shape, tt.via, tt.want.Shape)
			}
			if !reflect.DeepEqual(f.Incident, tt.want.Incident) || !reflect.DeepEqual(f.Object, tt.want.Object) {
				t.Errorf("incident:\n got %v\nwant %v", f.Incident, tt.want.Incident)
			}
			if string(f.Raw) != string(raw) {
				t.Errorf("Raw is not the delivery as given")
			}
			if got := f.ForRun().Meta.Source["via"]; got != tt.via {
				t.Errorf("the finding artifact's via: got %q", got)
			}
		})
	}
}

func TestParseSNSRefusesWhatCarriesNoFinding(t *testing.T) {
	const n = `{"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": %s}`
	tests := []struct{ name, doc, want string }{
		{"text message", strings.Replace(n, "%s", `"GuardDuty finding HIGH on i-0abc"`, 1), "the SNS notification's Message: no finding found: want the event, a JSON object, got text (a rule with an input transformer publishes text"},
		{"message not a string", strings.Replace(n, "%s", `{"type": "x"}`, 1), "the SNS notification's Message is an object, want the published event as a JSON string"},
		{"message a list", strings.Replace(n, "%s", `"[1]"`, 1), "want the event, a JSON object, got a list"},
		{"message of another event", strings.Replace(n, "%s", `"{\"detail-type\": \"EC2 Instance State-change Notification\", \"detail\": {}}"`, 1), "neither a GuardDuty finding"},
		{"two records", `{"Records": [{"Sns": {"Message": "{}"}}, {"Sns": {"Message": "{}"}}]}`, "Records holds 2 SNS messages, want exactly one"},
		{"sns record without a message", `{"Records": [{"Sns": {"Type": "Notification"}}]}`, "Records[0].Sns.Message is null"},
		{"records not a list", `{"Records": {"Sns": {}}}`, "Records is an object, want a Lambda event's list"},
		{"sns in sns", strings.Replace(n, "%s", `"{\"Type\": \"Notification\", \"TopicArn\": \"t\", \"Message\": \"{}\"}"`, 1), "an SNS notification inside an SNS notification"},
		{"record of neither", `{"Records": [{"eventSource": "aws:s3"}]}`, "Records[0] is neither an SNS record"},
		{"sqs body not a notification", `{"Records": [{"body": "{\"a\": 1}"}]}`, "Records[0].body (an SQS message) is not an SNS notification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if tt.name != "two records" && !errors.Is(err, ErrNoFinding) {
				t.Errorf("not ErrNoFinding: %v", err)
			}
		})
	}
}

// TestParseAllLambdaBatch: a Lambda reading a queue subscribed to the
// topic gets up to 10 records in one event; ParseAll gives the finding of
// each, each with its own raw event, and says which record is wrong.
func TestParseAllLambdaBatch(t *testing.T) {
	var one map[string]any
	if err := json.Unmarshal(fixture(t, "lambda-sqs-sns-backdoor-c2.json"), &one); err != nil {
		t.Fatal(err)
	}
	rec := one["Records"].([]any)[0].(map[string]any)
	key, err := json.Marshal(map[string]any{"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:123456789012:guardduty-findings",
		"Message": string(fixture(t, "guardduty-iamuser-malicious-ip.json"))})
	if err != nil {
		t.Fatal(err)
	}
	second := map[string]any{"messageId": "2", "body": string(key), "eventSource": "aws:sqs"}
	batch, _ := json.Marshal(map[string]any{"Records": []any{rec, second}})
	fs, err := ParseAll(batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].Type() != "Backdoor:EC2/C&CActivity.B" || fs[1].Type() != "UnauthorizedAccess:IAMUser/MaliciousIPCaller" {
		t.Fatalf("got %d findings", len(fs))
	}
	for i, f := range fs {
		if f.Via != ViaLambdaSQS {
			t.Errorf("finding %d: via %q", i, f.Via)
		}
		if back, err := Parse(f.Raw); err != nil || back.Type() != f.Type() {
			t.Errorf("finding %d: its Raw is not its event: %v", i, err)
		}
	}
	// One record: the finding's Raw is the whole event, as Parse keeps it.
	single := fixture(t, "lambda-sns-backdoor-c2.json")
	fs, err = ParseAll(single)
	if err != nil || len(fs) != 1 || fs[0].Via != ViaLambdaSNS || !bytes.Equal(fs[0].Raw, single) {
		t.Fatalf("one Lambda SNS record: %v", err)
	}

	second["body"] = `{"not": "a notification"}`
	batch, _ = json.Marshal(map[string]any{"Records": []any{rec, second}})
	if _, err := ParseAll(batch); err == nil || !strings.Contains(err.Error(), "Records[1].body (an SQS message) is not an SNS notification") {
		t.Fatalf("a bad second record: %v", err)
	}
}
