package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	r := newSandbox(t).run("--version").want(t, 0)
	contains(t, "--version", r.stdout, testVersion, testCommit[:12])
}

func TestUsageErrorsExit2(t *testing.T) {
	s := newSandbox(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"no command", nil, "no command given"},
		{"unknown flag", []string{"plan", "--frob", "local-check"}, "flag provided but not defined"},
		{"missing argument", []string{"plan"}, "usage: firebreak plan"},
		{"bad log format", []string{"--log-format", "xml", "list"}, `--log-format "xml"`},
		{"bad plan format", []string{"plan", "--format", "svg", "local-check"}, `--format "svg"`},
		{"unknown playbook", []string{"plan", "no-such-playbook"}, "no-such-playbook"},
		{"missing required input", []string{"plan", "touch"}, "path"},
		{"unknown input", []string{"plan", "local-check", "-i", "colour=red"}, "colour"},
		{"bad case id", []string{"run", "local-check", "--case", "../up"}, `--case "../up"`},
		{"unknown action", []string{"actions", "isolat"}, `no action "isolat"`},
		{"unknown schema", []string{"schema", "nope"}, `no schema "nope"`},
		{"unknown help topic", []string{"help", "nope"}, "no help topic for 'nope'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.run(tt.args...).want(t, 2)
			contains(t, "stderr", r.stderr, tt.want)
		})
	}
}

func TestValidate(t *testing.T) {
	s := newSandbox(t)
	t.Run("all found", func(t *testing.T) {
		r := s.run("validate").want(t, 0)
		contains(t, "stdout", r.stdout, "local-check", "touch", "blocks", "fails")
	})
	t.Run("examples and built-ins: every action they name is wired in", func(t *testing.T) {
		examples, _ := filepath.Abs("../../examples")
		r := s.run("--playbooks", examples, "validate").want(t, 0)
		contains(t, "stdout", r.stdout, "examples/fan-out-hash-files.yaml", "builtin:host-compromise.yaml", "builtin:memory-capture.yaml")
	})
	t.Run("broken file", func(t *testing.T) {
		broken, _ := filepath.Abs("testdata/broken/broken.yaml")
		r := s.run("validate", broken).want(t, 2)
		// Every problem, each at its place, as file:line:col: message.
		contains(t, "stderr", r.stderr,
			broken+`:5:13: unknown action "comand" (did you mean "command"?)`,
			broken+`:9:13: unknown step "nope" in needs`)
	})
	t.Run("a dir as an argument", func(t *testing.T) {
		examples, _ := filepath.Abs("../../examples")
		r := s.run("validate", examples).want(t, 0)
		contains(t, "stdout", r.stdout, "examples/fan-out-hash-files.yaml", "examples/isolate-tagged.yaml")
		dir, _ := filepath.Abs("testdata/broken")
		r = s.run("validate", dir).want(t, 2)
		contains(t, "stderr", r.stderr, "broken.yaml:5:13:")
	})
	t.Run("a broken dir among good ones", func(t *testing.T) {
		dir, _ := filepath.Abs("testdata/broken")
		r := s.run("--playbooks", dir, "validate")
		r.want(t, 2)
		contains(t, "stderr", r.stderr, "broken.yaml:5:13:")
		contains(t, "stdout", r.stdout, "ok  ")
	})
}

func TestPlanJSONShape(t *testing.T) {
	s := newSandbox(t)
	r := s.run("plan", "local-check", "-i", "greeting=hi", "--format", "json").want(t, 0)
	// stdout is the JSON alone: it parses as one document.
	var got struct {
		Playbook     struct{ Name, Version, SHA256 string } `json:"playbook"`
		Inputs       map[string]any                         `json:"inputs"`
		Waves        [][]string                             `json:"waves"`
		CriticalPath []string                               `json:"critical_path"`
		Steps        []struct {
			ID, Action, Decision string
			Needs                []string
			Wave                 int
			Calls                []string
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("plan --format json is not JSON: %v\n%s", err, r)
	}
	data, _ := os.ReadFile("testdata/playbooks/local-check.yaml")
	if got.Playbook.Name != "local-check" || got.Playbook.Version != "1.0.0" || got.Playbook.SHA256 != sha256hex(data) {
		t.Errorf("playbook: got %+v, want local-check 1.0.0 with the file's sha256", got.Playbook)
	}
	if got.Inputs["greeting"] != "hi" || got.Inputs["host"] != "localhost" {
		t.Errorf("inputs: got %v, want greeting=hi and the default host", got.Inputs)
	}
	wantWaves := [][]string{{"hello", "kernel"}, {"both"}, {"never"}}
	if !reflect.DeepEqual(got.Waves, wantWaves) {
		t.Errorf("waves: got %v, want %v", got.Waves, wantWaves)
	}
	if want := []string{"hello", "both", "never"}; !reflect.DeepEqual(got.CriticalPath, want) {
		t.Errorf("critical_path: got %v, want %v", got.CriticalPath, want)
	}
	decisions := map[string]string{}
	for _, st := range got.Steps {
		decisions[st.ID] = st.Decision
		if st.ID == "hello" && (len(st.Calls) != 1 || st.Calls[0] != `exec echo "hi localhost"`) {
			t.Errorf("hello calls: got %q, want [exec echo \"hi localhost\"]", st.Calls)
		}
	}
	if want := map[string]string{"hello": "run", "kernel": "run", "both": "run", "never": "skip"}; !reflect.DeepEqual(decisions, want) {
		t.Errorf("decisions: got %v, want %v", decisions, want)
	}
}

func TestPlanFormats(t *testing.T) {
	s := newSandbox(t)
	tests := []struct {
		format string
		want   []string
	}{
		{"text", []string{"playbook local-check 1.0.0", "wave 0", "never (command) [skip, mutating]", `why: inputs.greeting is "hello", not "never"`}},
		{"dot", []string{`digraph "local-check" {`, `"hello" -> "both" [penwidth=2];`}},
		{"mermaid", []string{"flowchart LR", "s0 ==> s2", "class s3 skip"}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			r := s.run("plan", "local-check", "--format", tt.format).want(t, 0)
			contains(t, "stdout", r.stdout, tt.want...)
		})
	}
}

func TestActionsAndSchema(t *testing.T) {
	s := newSandbox(t)
	r := s.run("actions").want(t, 0)
	contains(t, "actions", r.stdout, "ACTION", "command")
	r = s.run("actions", "command").want(t, 0)
	contains(t, "actions command", r.stdout, "argv", "required", "exit_code", "IAM permissions")
	r = s.run("actions", "--format", "json").want(t, 0)
	var specs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &specs); err != nil || len(specs) == 0 {
		t.Fatalf("actions --format json: %v\n%s", err, r)
	}
	for _, args := range [][]string{{"schema", "manifest"}, {"schema", "playbook"}, {"schema"}} {
		r = s.run(args...).want(t, 0)
		var schema map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &schema); err != nil {
			t.Fatalf("%v is not JSON: %v\n%s", args, err, r)
		}
		if _, ok := schema["$schema"]; !ok {
			t.Errorf("%v: no $schema key in %s", args, r.stdout)
		}
	}
	if a, b := s.run("schema").stdout, s.run("schema", "playbook").stdout; a != b {
		t.Errorf("schema with no argument: want the playbook schema")
	}
}

func TestIAMPolicyOfLocalPlaybook(t *testing.T) {
	r := newSandbox(t).run("iam-policy", "local-check").want(t, 0)
	var doc struct {
		Version   string
		Statement []any
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("iam-policy is not JSON: %v\n%s", err, r)
	}
	if doc.Version != "2012-10-17" || len(doc.Statement) != 0 {
		t.Errorf("got %+v, want version 2012-10-17 and no statement for a playbook that calls no AWS API", doc)
	}
}

func TestListAndShow(t *testing.T) {
	s := newSandbox(t)
	r := s.run("list").want(t, 0)
	contains(t, "list", r.stdout, "NAME", "local-check", "1.0.0", "cli-test")
	r = s.run("show", "touch").want(t, 0)
	data, _ := os.ReadFile("testdata/playbooks/touch.yaml")
	if r.stdout != string(data) {
		t.Errorf("show: got\n%s\nwant the file as it is\n%s", r.stdout, data)
	}
}

func TestFindingAsInput(t *testing.T) {
	s := newSandbox(t)
	asff, _ := filepath.Abs("testdata/findings/securityhub-asff-backdoor.json")
	// from-finding's instance_id defaults to ${{ incident.instance_id }}.
	r := s.run("plan", "from-finding", "--finding", asff, "--format", "json").want(t, 0)
	var p struct{ Inputs map[string]any }
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	if p.Inputs["instance_id"] != "i-0a1b2c3d4e5f67890" {
		t.Errorf("inputs from the finding: got %v, want the finding's instance", p.Inputs)
	}
	r = s.run("run", "from-finding", "--finding", asff).want(t, 0)
	data, err := os.ReadFile(r.manifestPath(t))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Artifacts []struct{ Step, URI string }
		Steps     []struct {
			ID      string
			Outputs map[string]any
		}
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) == 0 || m.Artifacts[0].Step != "finding" {
		t.Errorf("want the finding as the case's first artifact, got %+v", m.Artifacts)
	}
	if len(m.Steps) != 1 || m.Steps[0].Outputs["stdout"] != "i-0a1b2c3d4e5f67890 HIGH Backdoor:EC2/C&CActivity.B" {
		t.Errorf("the step saw: got %+v, want the instance, severity and type from the finding", m.Steps)
	}
	s.run("verify", r.manifestPath(t)).want(t, 0)

	r = s.run("list", "--finding", asff).want(t, 0)
	contains(t, "list --finding", r.stdout, "from-finding")
	if strings.Contains(r.stdout, "local-check") {
		t.Errorf("list --finding shows playbooks that do not answer it:\n%s", r.stdout)
	}
	key, _ := filepath.Abs("testdata/findings/guardduty-iamuser-malicious-ip.json")
	if r = s.run("list", "--finding", key).want(t, 0); strings.Contains(r.stdout, "from-finding") {
		t.Errorf("list --finding of a key finding shows an instance playbook:\n%s", r.stdout)
	}
	r = s.run("plan", "from-finding", "--finding", key).want(t, 2) // a key finding names no instance
	contains(t, "plan of a key finding", r.stderr, "instance_id")
	s.run("plan", "from-finding", "--finding", filepath.Join(s.dir, "none.json")).want(t, 2)
}
