package findings

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixtureDir holds real-shaped findings (testdata/README.md says which
// shape each is); tests read them and never change them.
const fixtureDir = "testdata"

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return b
}

// backdoor is what every shape of the C&C finding must derive.
var backdoor = incident(map[string]any{
	"type": "Backdoor:EC2/C&CActivity.B", "severity": "HIGH", "region": "us-east-1", "account": "123456789012",
	"instance_id": "i-0a1b2c3d4e5f67890", "access_key_id": "", "principal": "", "finding_id": "00000000000000000000000000001eef",
})

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file, shape string
		want        map[string]any
		objectKey   string // a key the finding object itself has, in its own case
	}{
		{"guardduty-backdoor-c2.json", ShapeGuardDutyEvent, backdoor, "instanceDetails"},
		{"guardduty-api-getfindings-backdoor.json", ShapeGuardDutyAPI, backdoor, "InstanceDetails"},
		{"securityhub-asff-backdoor.json", ShapeASFF, backdoor, "Resources"},
		{"guardduty-bitcoin.json", ShapeGuardDutyEvent, incident(map[string]any{
			"type": "CryptoCurrency:EC2/BitcoinTool.B", "severity": "HIGH", "region": "us-east-1", "account": "123456789012",
			"instance_id": "i-0a1b2c3d4e5f67890", "access_key_id": "", "principal": "", "finding_id": "00000000000000000000000000003dde",
		}), "instanceDetails"},
		{"guardduty-iamuser-malicious-ip.json", ShapeGuardDutyEvent, incident(map[string]any{
			"type": "UnauthorizedAccess:IAMUser/MaliciousIPCaller", "severity": "MEDIUM", "region": "us-east-1", "account": "123456789012",
			"instance_id": "", "access_key_id": "AKIAEXAMPLEKEY123456", "principal": "ci-deployer", "finding_id": "00000000000000000000000000005ccd",
			"principal_arn": "arn:aws:iam::123456789012:user/ci-deployer",
		}), "accessKeyDetails"},
		{"guardduty-instance-credential-exfiltration.json", ShapeGuardDutyEvent, incident(map[string]any{
			"type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "severity": "HIGH", "region": "us-east-1",
			"account": "123456789012", "instance_id": "i-0a1b2c3d4e5f67890", "access_key_id": "ASIAEXAMPLESESSION12",
			"principal": "web-role", "finding_id": "00000000000000000000000000007bbc",
			"role_name": "web-role", "principal_arn": "arn:aws:iam::123456789012:role/web-role",
		}), "accessKeyDetails"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := fixture(t, tt.file)
			f, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Shape != tt.shape {
				t.Errorf("shape: got %q, want %q", f.Shape, tt.shape)
			}
			if !reflect.DeepEqual(f.Incident, tt.want) {
				t.Errorf("incident:\n got %v\nwant %v", f.Incident, tt.want)
			}
			if !strings.Contains(flatKeys(f.Object), tt.objectKey) {
				t.Errorf("finding object keys %s lack %q: the envelope was not removed, or keys were renamed", flatKeys(f.Object), tt.objectKey)
			}
			if _, env := f.Object["detail-type"]; env {
				t.Errorf("finding object still holds the EventBridge envelope")
			}
			if string(f.Raw) != string(raw) {
				t.Errorf("Raw is not the document as given")
			}
		})
	}
}

// flatKeys lists every key of v, nested ones too, for a containment check.
func flatKeys(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				b.WriteString(k + " ")
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return b.String()
}

// TestParseUnwrappedShapes: a GetFindings finding alone and an ASFF
// finding alone or in a Findings list give the same incident as their
// wrapped fixtures.
func TestParseUnwrappedShapes(t *testing.T) {
	var api struct{ Findings []map[string]any }
	var event struct {
		Detail struct{ Findings []map[string]any } `json:"detail"`
	}
	if err := json.Unmarshal(fixture(t, "guardduty-api-getfindings-backdoor.json"), &api); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fixture(t, "securityhub-asff-backdoor.json"), &event); err != nil {
		t.Fatal(err)
	}
	asff := event.Detail.Findings[0]
	tests := []struct {
		name  string
		doc   any
		shape string
	}{
		{"getfindings alone", api.Findings[0], ShapeGuardDutyAPI},
		{"asff alone", asff, ShapeASFF},
		{"asff in a Findings list", map[string]any{"Findings": []any{asff}}, ShapeASFF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(tt.doc)
			f, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.Shape != tt.shape || !reflect.DeepEqual(f.Incident, backdoor) {
				t.Errorf("got %s %v, want %s %v", f.Shape, f.Incident, tt.shape, backdoor)
			}
		})
	}
}

// TestParseASFFAccessKey: an ASFF access-key resource gives the key, the
// principal and, for an instance role's session, the instance.
func TestParseASFFAccessKey(t *testing.T) {
	doc := `{"ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/guardduty", "Id": "x",
	  "Types": ["TTPs/Initial Access/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration.OutsideAWS"],
	  "Severity": {"Normalized": 80}, "AwsAccountId": "111122223333",
	  "Resources": [{"Type": "AwsIamAccessKey", "Id": "AWS::IAM::AccessKey:ASIAEXAMPLE", "Region": "eu-west-1",
	    "Details": {"AwsIamAccessKey": {"PrincipalName": "web-role", "PrincipalType": "AssumedRole", "PrincipalId": "AROAX:i-0123456789abcdef0"}}}]}`
	f, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := incident(map[string]any{
		"type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "severity": "HIGH", "region": "",
		"account": "111122223333", "instance_id": "i-0123456789abcdef0", "access_key_id": "ASIAEXAMPLE", "principal": "web-role", "finding_id": "x",
		"role_name": "web-role", "principal_arn": "arn:aws:iam::111122223333:role/web-role",
	})
	if !reflect.DeepEqual(f.Incident, want) {
		t.Errorf("incident:\n got %v\nwant %v", f.Incident, want)
	}
}

func TestParseRefusesWhatIsNotOneFinding(t *testing.T) {
	tests := []struct {
		name, doc, want string
		noFinding       bool
	}{
		{"not json", `{"type":`, "not JSON", false},
		{"a list", `[{"type": "x"}]`, "want a JSON object, got a list", true},
		{"null", `null`, "got null", true},
		{"empty object", `{}`, "want a GuardDuty finding", true},
		{"empty Findings", `{"Findings": []}`, "holds 0 findings", false},
		{"two findings", `{"Findings": [{"Type": "a", "Resource": {}}, {"Type": "b", "Resource": {}}]}`, "holds 2 findings", false},
		{"Findings not a list", `{"Findings": {"Type": "a"}}`, "Findings is an object, want a list", true},
		{"finding not an object", `{"Findings": ["x"]}`, "is a string, want an object", true},
		{"event of another source", `{"detail-type": "EC2 Instance State-change Notification", "detail": {"state": "running"}}`, "neither a GuardDuty finding", true},
		{"no type", `{"type": "", "resource": {}}`, "has no type", true},
		{"type not a string", `{"type": 7, "resource": {}}`, "has no type", true},
		{"asff without types", `{"ProductArn": "p", "Types": []}`, "has no type", true},
		{"too large", `"` + strings.Repeat("a", MaxSize) + `"`, "too large", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, %v; want an error containing %q", f, err, tt.want)
			}
			if errors.Is(err, ErrNoFinding) != tt.noFinding {
				t.Errorf("errors.Is(err, ErrNoFinding) = %v, want %v (%v)", !tt.noFinding, tt.noFinding, err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	f, err := Load(filepath.Join(fixtureDir, "guardduty-bitcoin.json"))
	if err != nil || f.Type() != "CryptoCurrency:EC2/BitcoinTool.B" {
		t.Errorf("Load: got %v, %v; want the bitcoin finding", f, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.json")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: got %v, want an error wrapping fs.ErrNotExist", err)
	}
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, []byte(strings.Repeat(" ", MaxSize+10)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("Load of an oversized file: got %v, want too large", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"guardduty-backdoor-c2.json", "securityhub-asff-backdoor.json", "guardduty-api-getfindings-backdoor.json"} {
		b, err := os.ReadFile(filepath.Join(fixtureDir, name))
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fd, err := Parse(data)
		if err == nil && (fd.Type() == "" || len(fd.Incident) != len(IncidentKeys)) {
			t.Errorf("Parse accepted a finding without a type or with missing incident keys: %v", fd.Incident)
		}
	})
}
