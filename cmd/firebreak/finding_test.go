package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadFinding(t *testing.T) {
	backdoor := map[string]any{"type": "Backdoor:EC2/C&CActivity.B", "severity": "HIGH", "region": "us-east-1",
		"account": "123456789012", "instance_id": "i-0a1b2c3d4e5f67890", "access_key_id": "", "principal": ""}
	tests := []struct {
		file       string
		want       map[string]any // finding_id is checked apart
		findingID  string
		findingKey string // a key of the finding as given, envelope removed
	}{
		{"guardduty-backdoor-c2.json", backdoor, "00000000000000000000000000001eef", "schemaVersion"},
		{"guardduty-api-getfindings-backdoor.json", backdoor, "00000000000000000000000000001eef", "SchemaVersion"},
		{"securityhub-asff-backdoor.json", backdoor, "arn:aws:guardduty:", "ProductArn"},
		{"guardduty-bitcoin.json", map[string]any{"type": "CryptoCurrency:EC2/BitcoinTool.B", "severity": "HIGH", "region": "us-east-1",
			"account": "123456789012", "instance_id": "i-0a1b2c3d4e5f67890", "access_key_id": "", "principal": ""}, "00000000000000000000000000003dde", "resource"},
		{"guardduty-iamuser-malicious-ip.json", map[string]any{"type": "UnauthorizedAccess:IAMUser/MaliciousIPCaller", "severity": "MEDIUM",
			"region": "us-east-1", "account": "123456789012", "instance_id": "", "access_key_id": "AKIAEXAMPLEKEY123456", "principal": "ci-deployer"},
			"00000000000000000000000000005ccd", "service"},
		{"guardduty-instance-credential-exfiltration.json", map[string]any{"type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
			"severity": "HIGH", "region": "us-east-1", "account": "123456789012", "instance_id": "", "access_key_id": "ASIAEXAMPLESESSION12", "principal": "web-role"},
			"00000000000000000000000000007bbc", "service"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			finding, incident, err := readFinding(filepath.Join("testdata", "findings", tt.file))
			if err != nil {
				t.Fatalf("readFinding: %v", err)
			}
			id, _ := incident["finding_id"].(string)
			if !strings.HasPrefix(id, tt.findingID) {
				t.Errorf("finding_id: got %q, want it to start with %q", id, tt.findingID)
			}
			delete(incident, "finding_id")
			if !reflect.DeepEqual(incident, tt.want) {
				t.Errorf("incident:\n got %v\nwant %v", incident, tt.want)
			}
			if _, ok := finding[tt.findingKey]; !ok {
				t.Errorf("finding lacks %q: the envelope was not removed, or keys were renamed", tt.findingKey)
			}
		})
	}
}

func TestReadFindingRejects(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, body, want string }{
		{"not json", "{", "not a JSON object"},
		{"no finding", `{"hello": "world"}`, "no finding found"},
		{"two findings", `{"Findings": [{"Type": "a"}, {"Type": "b"}]}`, "holds 2 findings"},
		{"list item not object", `{"Findings": [3]}`, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := readFinding(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error holding %q", err, tt.want)
			}
		})
	}
	if _, _, err := readFinding(filepath.Join(dir, "missing.json")); err == nil {
		t.Errorf("missing file: got no error")
	}
}

// FuzzParseFinding: whatever the file holds, parsing never panics, and a
// finding it accepts has every incident field, as a string.
func FuzzParseFinding(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "findings", "*.json"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, seed := range []string{`{}`, `{"detail-type": "x", "detail": 3}`, `{"Findings": "x"}`, `{"type": 5, "resource": []}`,
		`{"ProductArn": "a/guardduty", "Resources": [1, {"Type": "AwsEc2Instance", "Id": 7}], "Types": ["a:b-c"]}`, `null`, `[]`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		finding, incident, err := parseFinding(data)
		if err != nil {
			return
		}
		if finding == nil {
			t.Fatal("accepted a finding but returned none")
		}
		for _, k := range incidentKeys {
			if _, ok := incident[k].(string); !ok {
				t.Fatalf("incident[%q] is %T, want a string", k, incident[k])
			}
		}
	})
}
