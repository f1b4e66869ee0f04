package loader

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

func TestParseInputFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kv   []string
		want map[string]any
		err  string
	}{
		{name: "none", kv: nil, want: map[string]any{}},
		{name: "values stay strings", kv: []string{"instance_id=i-1", "ids=a,b", "port=22", "empty="}, want: map[string]any{"instance_id": "i-1", "ids": "a,b", "port": "22", "empty": ""}},
		{name: "= in the value", kv: []string{"filter=a=b"}, want: map[string]any{"filter": "a=b"}},
		{name: "no =", kv: []string{"instance_id"}, err: `inputs: -i "instance_id": want key=value, e.g. -i instance_id=i-0abc`},
		{name: "empty name", kv: []string{"=x"}, err: `inputs: -i "=x": the name before = is empty`},
		{name: "twice", kv: []string{"a=1", "a=2"}, err: `input "a": given twice: give it once (a list is -i a=a,b)`},
		{name: "all at once", kv: []string{"x", "a=1", "a=2"}, err: "inputs: -i \"x\": want key=value, e.g. -i instance_id=i-0abc\ninput \"a\": given twice: give it once (a list is -i a=a,b)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseInputFlags(tt.kv)
			checkErr(t, err, tt.err)
			if tt.err == "" && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if err.Error() != want {
		t.Errorf("error:\n got %q\nwant %q", err.Error(), want)
	}
	if !errors.Is(err, engine.ErrInvalidInput) {
		t.Errorf("error %q does not wrap engine.ErrInvalidInput", err)
	}
}

func TestReadInputsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		want       map[string]any
		err        string
	}{
		{name: "yaml", path: write("in.yaml", "instance_id: i-1\nports: [22, 80]\nflags: {a: true}\n"),
			want: map[string]any{"instance_id": "i-1", "ports": []any{22, 80}, "flags": map[string]any{"a": true}}},
		{name: "json", path: write("in.json", `{"instance_id": "i-1", "n": 3}`), want: map[string]any{"instance_id": "i-1", "n": 3}},
		{name: "empty", path: write("empty.yaml", ""), want: map[string]any{}},
		{name: "a list", path: write("list.yaml", "- a\n- b\n"), err: `inputs: file "` + dir + `/list.yaml": want a map of input names to values (YAML or JSON), not a list`},
		{name: "bad syntax", path: write("bad.json", `{"a": `), err: `inputs: file "` + dir + `/bad.json": want a map of input names to values (YAML or JSON): line 1: did not find expected node content`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadInputsFile(tt.path)
			checkErr(t, err, tt.err)
			if tt.err == "" && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	_, err := ReadInputsFile(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, engine.ErrInvalidInput) || !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "inputs file: invalid input: open ") {
		t.Errorf("missing file: %v", err)
	}
}

const resolvePlaybook = `name: resolve
inputs:
  instance_id: {required: true, target: true, pattern: '^i-[0-9a-f]+$'}
  from_finding: {default: "${{ incident.instance_id }}"}
  needed_from_finding: {required: true, default: "${{ incident.access_key_id }}"}
  port: {type: int, default: 22}
  ids: {type: list, pattern: '^vol-'}
  mode: {enum: [stop, terminate], default: stop}
  force: {type: bool}
  tags: {type: map}
steps:
  - {id: a, action: upload-log}
`

func TestResolveInputs(t *testing.T) {
	t.Parallel()
	pb, err := (&Loader{Registry: testRegistry()}).LoadBytes("resolve.yaml", []byte(resolvePlaybook))
	if err != nil {
		t.Fatal(err)
	}
	finding := &engine.Env{Incident: map[string]any{"instance_id": "i-0f", "access_key_id": "AKIA1"}}
	base := map[string]any{"instance_id": "i-0abc"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{"instance_id": "i-0abc"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name  string
		given map[string]any
		env   *engine.Env
		want  map[string]any
		err   string
	}{
		{name: "defaults and zero values", given: base, env: finding, want: map[string]any{
			"instance_id": "i-0abc", "from_finding": "i-0f", "needed_from_finding": "AKIA1", "port": 22,
			"ids": []any{}, "mode": "stop", "force": false, "tags": map[string]any{}}},
		{name: "flag strings are coerced", given: with("port", "2222", "ids", "vol-1,vol-2", "force", "true", "mode", "terminate", "from_finding", "i-1"), env: finding, want: map[string]any{
			"instance_id": "i-0abc", "from_finding": "i-1", "needed_from_finding": "AKIA1", "port": 2222,
			"ids": []any{"vol-1", "vol-2"}, "mode": "terminate", "force": true, "tags": map[string]any{}}},
		{name: "required missing, and its finding default empty", given: map[string]any{}, env: nil,
			err: "input \"instance_id\": required: give it with -i instance_id=VALUE or in --inputs-file\ninput \"needed_from_finding\": required: give it with -i needed_from_finding=VALUE or in --inputs-file"},
		{name: "required given empty", given: with("instance_id", "", "needed_from_finding", "x"), err: `input "instance_id": value: "" does not match the pattern "^i-[0-9a-f]+$"`},
		{name: "wrong type", given: with("port", "ssh", "needed_from_finding", "x"), err: `input "port": value: want int, got string "ssh"`},
		{name: "pattern on a list item", given: with("ids", []any{"vol-1", "snap-2"}, "needed_from_finding", "x"), err: `input "ids": value: "snap-2" does not match the pattern "^vol-"`},
		{name: "enum", given: with("mode", "halt", "needed_from_finding", "x"), err: `input "mode": value: "halt" is not one of "stop", "terminate"`},
		{name: "map from a flag", given: with("tags", "a=b", "needed_from_finding", "x"), err: `input "tags": value: want map, got string "a=b"`},
		{name: "unknown names", given: with("instance", "x", "zzz", 1, "needed_from_finding", "x"),
			err: "input \"instance\": unknown input (did you mean \"instance_id\"?)\ninput \"zzz\": unknown input (it takes \"instance_id\", \"from_finding\", \"needed_from_finding\", \"port\", \"ids\", \"mode\", \"force\", \"tags\")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ResolveInputs(pb, tt.given, tt.env)
			checkErr(t, err, tt.err)
			if tt.err == "" && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestResolveRequiredEmptyString(t *testing.T) {
	t.Parallel()
	pb, err := (&Loader{}).LoadBytes("x.yaml", []byte("name: x\ninputs:\n  who: {required: true}\nsteps: [{id: a, action: b}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ResolveInputs(pb, map[string]any{"who": ""}, nil)
	checkErr(t, err, `input "who": required, and the value is empty: give it with -i who=VALUE`)
	pb2, err := (&Loader{}).LoadBytes("y.yaml", []byte("name: y\nsteps: [{id: a, action: b}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ResolveInputs(pb2, map[string]any{"x": 1}, nil)
	checkErr(t, err, `input "x": unknown input (the playbook takes none)`)
}

func TestResolveDefaultErrors(t *testing.T) {
	t.Parallel()
	pb, err := (&Loader{}).LoadBytes("d.yaml", []byte(`name: d
inputs:
  port: {type: int, default: "${{ incident.port }}"}
  deep: {default: "${{ incident.a.b }}"}
steps: [{id: a, action: b}]
`))
	if err != nil {
		t.Fatal(err)
	}
	env := &engine.Env{Incident: map[string]any{"port": "ssh", "a": "flat"}}
	_, err = ResolveInputs(pb, nil, env)
	if err == nil || !errors.Is(err, engine.ErrInvalidInput) {
		t.Fatalf("got %v, want invalid input errors", err)
	}
	lines := strings.SplitN(err.Error(), "\n", 2) // expr-lang's message may add a snippet
	if len(lines) != 2 || lines[0] != `input "port": default: want int, got string "ssh"` || !strings.HasPrefix(lines[1], `input "deep": computing the default: evaluating " incident.a.b ": `) {
		t.Errorf("errors:\n%s", err)
	}
	got, err := ResolveInputs(pb, nil, &engine.Env{Incident: map[string]any{"port": 2222, "a": map[string]any{"b": "x"}}})
	if err != nil || got["port"] != 2222 || got["deep"] != "x" {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestReadInputsFileTooLarge(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, make([]byte, MaxSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadInputsFile(p)
	checkErr(t, err, `inputs: file "`+p+`" is larger than 4194304 bytes`)
}
