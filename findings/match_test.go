package findings_test

import (
	"bytes"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/findings"
	"github.com/firebreak-ir/firebreak/playbooks"
)

const fixtureDir = "testdata"

// builtins is the catalogue of built-in playbooks. No registry: what is
// tested here is matching and inputs, not the actions' parameters.
func builtins() *loader.Catalog {
	return &loader.Catalog{Builtin: playbooks.FS, Loader: &loader.Loader{}}
}

// TestFindingPicksPlaybookAndInputs: each fixture is answered by exactly
// one built-in playbook, whose inputs default from the finding; a
// playbook whose globs match but whose inputs the finding cannot give is
// a misfit, not an answer.
func TestFindingPicksPlaybookAndInputs(t *testing.T) {
	tests := []struct {
		file, playbook string
		inputs         map[string]any // a subset of the resolved inputs
	}{
		{"guardduty-instance-credential-exfiltration.json", "instance-credential-exfiltration",
			map[string]any{"instance_id": "i-0a1b2c3d4e5f67890", "role_name": "web-role", "region": "us-east-1", "terminate": false}},
		{"guardduty-backdoor-c2.json", "host-compromise", map[string]any{"instance_id": "i-0a1b2c3d4e5f67890", "region": "us-east-1"}},
		{"guardduty-api-getfindings-backdoor.json", "host-compromise", map[string]any{"instance_id": "i-0a1b2c3d4e5f67890", "region": "us-east-1"}},
		{"securityhub-asff-backdoor.json", "host-compromise", map[string]any{"instance_id": "i-0a1b2c3d4e5f67890", "region": "us-east-1"}},
		{"guardduty-bitcoin.json", "host-compromise", map[string]any{"instance_id": "i-0a1b2c3d4e5f67890", "terminate": false}},
		{"guardduty-iamuser-malicious-ip.json", "key-compromise", map[string]any{"access_key_id": "AKIAEXAMPLEKEY123456", "region": "us-east-1"}},
		{"guardduty-ec2-malicious-file.json", "host-compromise", map[string]any{"instance_id": "i-0a1b2c3d4e5f67890"}},
		{"guardduty-runtime-new-binary.json", "host-compromise", map[string]any{"instance_id": "i-0a1b2c3d4e5f67890"}},
		{"guardduty-s3-exfiltration.json", "s3-compromise", map[string]any{"bucket": "payments-exports", "region": "us-east-1",
			"suspects": []any{"arn:aws:iam::123456789012:role/etl-role"}}},
		{"securityhub-asff-s3-exfiltration.json", "s3-compromise", map[string]any{"bucket": "payments-exports"}},
		{"guardduty-s3-bpa-disabled.json", "s3-compromise", map[string]any{"bucket": "public-site-assets"}},
		{"guardduty-cloudtrail-disabled.json", "trail-tampering", map[string]any{"trail": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit",
			"actor_role": "ops-admin"}},
		{"securityhub-asff-cloudtrail-disabled.json", "trail-tampering", map[string]any{"trail": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-audit"}},
		{"guardduty-role-discovery.json", "role-compromise", map[string]any{"role_name": "ci-deploy-role"}},
		{"securityhub-asff-role-discovery.json", "role-compromise", map[string]any{"role_name": "ci-deploy-role"}},
		{"guardduty-lambda-c2.json", "lambda-compromise", map[string]any{"function": "arn:aws:lambda:us-east-1:123456789012:function:invoice-render"}},
		{"securityhub-asff-lambda-c2.json", "lambda-compromise", map[string]any{"function": "arn:aws:lambda:us-east-1:123456789012:function:invoice-render"}},
		{"guardduty-rds-bruteforce.json", "rds-compromise", map[string]any{"db_instance_id": "orders-db"}},
		{"securityhub-asff-rds-bruteforce.json", "rds-compromise", map[string]any{"db_instance_id": "orders-db"}},
	}
	cat := builtins()
	entries, err := cat.List()
	if err != nil {
		t.Fatalf("listing the built-ins: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := findings.Load(filepath.Join(fixtureDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, misfits := findings.Answers(cat, entries, f)
			if !slices.Equal(got, []string{tt.playbook}) {
				t.Fatalf("Answers %q: got %v (misfits %v), want [%s]", f.Type(), got, misfits, tt.playbook)
			}
			pb, err := cat.Find(tt.playbook)
			if err != nil {
				t.Fatal(err)
			}
			inputs, err := loader.ResolveInputs(pb, nil, f.Env())
			if err != nil {
				t.Fatalf("ResolveInputs from the finding alone: %v", err)
			}
			for k, want := range tt.inputs {
				if !reflect.DeepEqual(inputs[k], want) {
					t.Errorf("input %s: got %v, want %v", k, inputs[k], want)
				}
			}
		})
	}
}

// TestInputsWithoutFinding: the inputs that default from a finding are
// still given with -i when there is none, and a value given wins over
// the finding's.
func TestInputsWithoutFinding(t *testing.T) {
	cat := builtins()
	tests := []struct {
		playbook string
		given    map[string]any
		finding  string
		check    string
		want     any
		wantErr  string
	}{
		{"host-compromise", map[string]any{"instance_id": "i-0123456789abcdef0"}, "", "instance_id", "i-0123456789abcdef0", ""},
		{"host-compromise", nil, "", "", nil, `"instance_id": required`},
		{"key-compromise", map[string]any{"access_key_id": "AKIAIOSFODNN7EXAMPLE"}, "", "access_key_id", "AKIAIOSFODNN7EXAMPLE", ""},
		{"key-compromise", map[string]any{"access_key_id": "AKIAIOSFODNN7EXAMPLE"}, "guardduty-iamuser-malicious-ip.json", "access_key_id", "AKIAIOSFODNN7EXAMPLE", ""},
		{"key-compromise", nil, "", "", nil, `"access_key_id": required`},
		{"key-compromise", nil, "guardduty-instance-credential-exfiltration.json", "", nil, "does not match the pattern"},
		{"instance-credential-exfiltration", map[string]any{"instance_id": "i-0123456789abcdef0"}, "", "", nil, `"role_name": required`},
		{"instance-credential-exfiltration", map[string]any{"instance_id": "i-0123456789abcdef0", "role_name": "r"}, "", "role_name", "r", ""},
	}
	for _, tt := range tests {
		t.Run(tt.playbook+"/"+tt.check+tt.wantErr, func(t *testing.T) {
			pb, err := cat.Find(tt.playbook)
			if err != nil {
				t.Fatal(err)
			}
			var env *engine.Env
			if tt.finding != "" {
				f, err := findings.Load(filepath.Join(fixtureDir, tt.finding))
				if err != nil {
					t.Fatal(err)
				}
				env = f.Env()
			}
			got, err := loader.ResolveInputs(pb, tt.given, env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got[tt.check] != tt.want {
				t.Errorf("got %v, %v; want %s = %v", got, err, tt.check, tt.want)
			}
		})
	}
}

func TestMatchGlobs(t *testing.T) {
	entries := []loader.Entry{
		{Name: "a", Findings: []string{"Backdoor:EC2/*"}},
		{Name: "b", Findings: []string{"[bad", "Backdoor:EC2/C&CActivity.B"}},
		{Name: "c"},
	}
	f, err := findings.Parse([]byte(`{"type": "Backdoor:EC2/C&CActivity.B", "resource": {}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := findings.Match(entries, f); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("got %v, want [a b] (a bad glob matches nothing, a good one beside it still does)", got)
	}
	if got := findings.Match(entries, nil); got != nil {
		t.Errorf("nil finding: got %v, want none", got)
	}
	if findings.MatchType([]string{"Backdoor:*"}, "Backdoor:EC2/X") {
		t.Errorf(`"Backdoor:*" matched across "/": want path.Match semantics, as the loader checks`)
	}
}

func TestForRunKeepsTheFindingAsGiven(t *testing.T) {
	f, err := findings.Load(filepath.Join(fixtureDir, "securityhub-asff-backdoor.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := f.ForRun()
	if !bytes.Equal(r.Raw, f.Raw) || r.Meta.Name != "finding.json" || r.Meta.Kind != "finding" || r.Meta.ContentType != "application/json" ||
		r.Meta.Source["finding_id"] != "00000000000000000000000000001eef" || r.Meta.Source["shape"] != findings.ShapeASFF || r.Meta.Source["type"] != f.Type() {
		t.Errorf("ForRun: got %+v with %d bytes, want the raw finding (%d bytes) as finding.json of kind finding with its id, type and shape", r.Meta, len(r.Raw), len(f.Raw))
	}
	if !reflect.DeepEqual(r.Object, f.Object) || !reflect.DeepEqual(r.Incident, f.Incident) {
		t.Errorf("ForRun: object %v incident %v, want the finding's", r.Object, r.Incident)
	}
}

// TestAnswersTellUsersFromRoles: GuardDuty files a user's and an assumed
// role's findings under the same IAMUser types; the user's key answers
// key-compromise (role-compromise is a misfit: no role), the role's
// session role-compromise (key-compromise is a misfit: a temporary key).
func TestAnswersTellUsersFromRoles(t *testing.T) {
	cat := builtins()
	entries, err := cat.List()
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][2]string{
		"guardduty-iamuser-malicious-ip.json": {"key-compromise", "role-compromise"},
		"guardduty-role-discovery.json":       {"role-compromise", "key-compromise"},
	} {
		f, err := findings.Load(filepath.Join(fixtureDir, file))
		if err != nil {
			t.Fatal(err)
		}
		got, misfits := findings.Answers(cat, entries, f)
		if !slices.Equal(got, want[:1]) || len(misfits) != 1 || misfits[0].Name != want[1] || misfits[0].Err == nil {
			t.Errorf("%s: got %v, misfits %v; want %s answering, %s a misfit with its reason", file, got, misfits, want[0], want[1])
		}
	}
}
