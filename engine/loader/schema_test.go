package loader

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/firebreak-ir/firebreak/schemas"
)

func playbookSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	data, err := schemas.Get("playbook")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("playbook.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("playbook.schema.json")
	if err != nil {
		t.Fatalf("compiling the schema: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	return sch, raw
}

// TestSchemaFieldsMatchLoader: the fields the loader accepts are exactly
// the properties the schema describes, at each level.
func TestSchemaFieldsMatchLoader(t *testing.T) {
	t.Parallel()
	_, raw := playbookSchema(t)
	props := func(path ...string) []string {
		var node any = raw
		for _, p := range path {
			node = node.(map[string]any)[p]
		}
		var keys []string
		for k := range node.(map[string]any)["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys
	}
	tests := []struct {
		name   string
		path   []string
		loader []string
	}{
		{name: "top level", path: nil, loader: topFields},
		{name: "step", path: []string{"$defs", "step"}, loader: stepFields},
		{name: "input", path: []string{"$defs", "input"}, loader: inputFields},
		{name: "defaults", path: []string{"properties", "defaults"}, loader: defaultsFields},
		{name: "backoff", path: []string{"$defs", "backoff"}, loader: backoffFields},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := slices.Sorted(slices.Values(tt.loader))
			if got := props(tt.path...); !slices.Equal(got, want) {
				t.Errorf("schema properties %v, loader fields %v", got, want)
			}
		})
	}
}

// TestSchemaAcceptsWhatLoaderAccepts validates every playbook the loader
// accepts in testdata, playbooks/ and examples/ against the schema, and
// checks that the schema rejects some the loader rejects for their shape.
func TestSchemaAcceptsWhatLoaderAccepts(t *testing.T) {
	t.Parallel()
	sch, _ := playbookSchema(t)
	var files []string
	for _, pat := range []string{"testdata/valid/*.y*ml", "testdata/catalog/*/*.y*ml", "../../playbooks/*.y*ml", "../../examples/*.y*ml"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	accepted := 0
	for _, f := range files {
		if _, err := (&Loader{}).LoadFile(f); err != nil {
			continue // actions are not checked here, so only shape errors skip a file
		}
		accepted++
		if err := sch.Validate(asJSON(t, f)); err != nil {
			t.Errorf("%s: the loader accepts it, the schema does not:\n%v", f, err)
		}
	}
	t.Logf("%d playbooks accepted by the loader, all valid by the schema", accepted)
	if accepted < 5 {
		t.Errorf("only %d playbooks accepted: the test proves little", accepted)
	}
	for _, name := range []string{"unknown-top-fields", "unknown-step-fields", "wrong-types", "missing-id-action", "bad-name", "concurrency", "input-decls", "bad-durations"} {
		if err := sch.Validate(asJSON(t, "testdata/invalid/"+name+".yaml")); err == nil {
			t.Errorf("%s: the loader rejects it, the schema accepts it", name)
		}
	}
}

func asJSON(t *testing.T, file string) any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(j)))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}
