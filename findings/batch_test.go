package findings

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// sns wraps doc as an SNS notification, as a queue subscribed to a topic
// receives it (raw message delivery off).
func sns(t *testing.T, doc []byte) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"Type": "Notification", "MessageId": "5b1d2c3e-0000-4000-8000-000000000001",
		"TopicArn": "arn:aws:sns:us-east-1:123456789012:guardduty-findings", "Subject": nil,
		"Message": string(doc), "Timestamp": "2026-11-20T08:14:02.000Z", "SignatureVersion": "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonList(docs ...[]byte) []byte {
	return append(append([]byte("[\n"), bytes.Join(docs, []byte(",\n"))...), "\n]"...)
}

// apiPair is two findings in one GetFindings answer.
func apiPair(t *testing.T) []byte {
	t.Helper()
	var doc map[string][]json.RawMessage
	if err := json.Unmarshal(fixture(t, "guardduty-api-getfindings-backdoor.json"), &doc); err != nil {
		t.Fatal(err)
	}
	second := bytes.Replace(doc["Findings"][0], []byte("00000000000000000000000000001eef"), []byte("00000000000000000000000000002eef"), -1)
	b, _ := json.Marshal(map[string]any{"Findings": []json.RawMessage{doc["Findings"][0], second}})
	return b
}

// asffPair is one EventBridge event of Security Hub carrying two findings.
func asffPair(t *testing.T) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(fixture(t, "securityhub-asff-backdoor.json"), &ev); err != nil {
		t.Fatal(err)
	}
	detail := ev["detail"].(map[string]any)
	list := detail["findings"].([]any)
	s3 := map[string]any{}
	if err := json.Unmarshal(fixture(t, "securityhub-asff-s3-exfiltration.json"), &s3); err != nil {
		t.Fatal(err)
	}
	detail["findings"] = append(list, s3["detail"].(map[string]any)["findings"].([]any)[0])
	b, _ := json.Marshal(ev)
	return b
}

func TestParseAllShapes(t *testing.T) {
	event := fixture(t, "guardduty-backdoor-c2.json")
	key := fixture(t, "guardduty-iamuser-malicious-ip.json")
	tests := []struct {
		name   string
		doc    []byte
		types  []string
		shapes []string
		rawIs  []byte // the Raw of a single finding: the document as given
	}{
		{name: "eventbridge", doc: event, types: []string{"Backdoor:EC2/C&CActivity.B"}, shapes: []string{ShapeGuardDutyEvent}, rawIs: event},
		{name: "api, one", doc: fixture(t, "guardduty-api-getfindings-backdoor.json"), types: []string{"Backdoor:EC2/C&CActivity.B"}, shapes: []string{ShapeGuardDutyAPI}},
		{name: "asff event, one", doc: fixture(t, "securityhub-asff-backdoor.json"), types: []string{"Backdoor:EC2/C&CActivity.B"}, shapes: []string{ShapeASFF}},
		{name: "sns carrying an event", doc: sns(t, event), types: []string{"Backdoor:EC2/C&CActivity.B"}, shapes: []string{ShapeGuardDutyEvent}, rawIs: sns(t, event)},
		{name: "list of events", doc: jsonList(event, key), types: []string{"Backdoor:EC2/C&CActivity.B", "UnauthorizedAccess:IAMUser/MaliciousIPCaller"},
			shapes: []string{ShapeGuardDutyEvent, ShapeGuardDutyEvent}},
		{name: "api, two", doc: apiPair(t), types: []string{"Backdoor:EC2/C&CActivity.B", "Backdoor:EC2/C&CActivity.B"}, shapes: []string{ShapeGuardDutyAPI, ShapeGuardDutyAPI}},
		{name: "asff event, two", doc: asffPair(t), types: []string{"Backdoor:EC2/C&CActivity.B", "Exfiltration:S3/AnomalousBehavior"}, shapes: []string{ShapeASFF, ShapeASFF}},
		{name: "sns carrying a list", doc: sns(t, jsonList(event, key)), types: []string{"Backdoor:EC2/C&CActivity.B", "UnauthorizedAccess:IAMUser/MaliciousIPCaller"},
			shapes: []string{ShapeGuardDutyEvent, ShapeGuardDutyEvent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := ParseAll(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != len(tt.types) {
				t.Fatalf("got %d findings, want %d", len(fs), len(tt.types))
			}
			for i, f := range fs {
				if f.Type() != tt.types[i] || f.Shape != tt.shapes[i] {
					t.Errorf("finding %d: type %q shape %q, want %q %q", i, f.Type(), f.Shape, tt.types[i], tt.shapes[i])
				}
				if one, err := Parse(f.Raw); err != nil || one.Type() != f.Type() {
					t.Errorf("finding %d: its Raw does not parse back to it: %v", i, err)
				}
			}
			if tt.rawIs != nil && !bytes.Equal(fs[0].Raw, tt.rawIs) {
				t.Errorf("Raw is not the document as given")
			}
		})
	}
}

func TestParseReadsSNS(t *testing.T) {
	doc := sns(t, fixture(t, "guardduty-backdoor-c2.json"))
	f, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if f.Type() != "Backdoor:EC2/C&CActivity.B" || f.ID() != "00000000000000000000000000001eef" || !bytes.Equal(f.Raw, doc) {
		t.Errorf("got type %q id %q", f.Type(), f.ID())
	}
	if f.Count() != 14 || f.UpdatedAt() != "2026-11-20T08:13:58.057Z" {
		t.Errorf("count %d updatedAt %q, want 14 and the fixture's", f.Count(), f.UpdatedAt())
	}
}

func TestParseAllRefuses(t *testing.T) {
	event := fixture(t, "guardduty-backdoor-c2.json")
	tests := []struct {
		name, want string
		doc        []byte
		noFinding  bool
	}{
		{name: "not json", doc: []byte(`{"detail": `), want: "not JSON"},
		{name: "unknown shape", doc: []byte(`{"hello": "world"}`), want: "want a GuardDuty finding", noFinding: true},
		{name: "empty list", doc: []byte(`[]`), want: "the list is empty", noFinding: true},
		{name: "one bad element", doc: jsonList(event, []byte(`{"x": 1}`)), want: "the list[1]: ", noFinding: true},
		{name: "a string", doc: []byte(`"Backdoor"`), want: "want a JSON object, got a string", noFinding: true},
		{name: "sns in sns", doc: sns(t, sns(t, event)), want: "an SNS notification inside an SNS notification", noFinding: true},
		{name: "sns with a bad message", doc: sns(t, []byte(`{"x":1}`)), want: "the SNS notification's Message: ", noFinding: true},
		{name: "too large", doc: bytes.Repeat([]byte(" "), MaxBatchSize+1), want: "too large"},
		{name: "too many", doc: jsonList(bytes.Split(bytes.Repeat(append(append([]byte{}, event...), 0), MaxBatch+1), []byte{0})[:MaxBatch+1]...),
			want: "at most 100 in one document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := ParseAll(tt.doc)
			if err == nil {
				t.Fatalf("ParseAll took it: %d findings", len(fs))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
			if got := errors.Is(err, ErrNoFinding); got != tt.noFinding {
				t.Errorf("errors.Is(ErrNoFinding) = %v, want %v (%v)", got, tt.noFinding, err)
			}
		})
	}
}
