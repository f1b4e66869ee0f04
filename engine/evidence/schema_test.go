package evidence

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/firebreak-ir/firebreak/engine"
)

func compileManifestSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "schemas", "manifest.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("manifest.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("manifest.schema.json")
	if err != nil {
		t.Fatalf("compiling the manifest schema: %v", err)
	}
	return sch
}

func TestManifestMatchesSchema(t *testing.T) {
	t.Parallel()
	sch := compileManifestSchema(t)
	store, _ := NewDirStore(t.TempDir())
	signer, _ := testSigner(t)
	buildCase(t, store, "cr-signed", signer)
	buildCase(t, store, "cr-unsigned", nil)
	for _, id := range []string{"cr-signed", "cr-unsigned"} {
		raw, err := os.ReadFile(filepath.Join(store.Root(), id, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("manifest of %s does not match the schema: %v", id, err)
		}
	}
	// The schema must also reject: a manifest with an unknown field, a bad
	// hash and a bad status does not pass.
	bad := strings.NewReader(`{"schema":"firebreak/manifest/v1","case_id":"c","run_id":"r","playbook":{"name":"p"},
		"tool":{"name":"firebreak"},"operator":{},"inputs":{},"started_at":"2026-11-29T10:22:17Z",
		"finished_at":"2026-11-29T10:22:17Z","status":"done","steps":[],"artifacts":[],
		"custody":{"entries":1,"head":"XYZ"},"extra":1}`)
	inst, _ := jsonschema.UnmarshalJSON(bad)
	err := sch.Validate(inst)
	if err == nil {
		t.Fatal("a bad manifest passed the schema")
	}
	for _, want := range []string{"/status", "/custody/head", "extra"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("schema error %q does not mention %q", err, want)
		}
	}
}

// TestSchemaCoversEveryField keeps the schema in step with the Go types:
// every JSON field of the manifest, its steps, artifacts, custody and
// signature is a property in the schema, and no property is stale.
func TestSchemaCoversEveryField(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "schemas", "manifest.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sch struct {
		Properties map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"properties"`
		Defs map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &sch); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
	top := map[string]any{}
	for k := range sch.Properties {
		top[k] = nil
	}
	tests := []struct {
		name   string
		typ    reflect.Type
		schema []string
	}{
		{"manifest", reflect.TypeFor[Manifest](), keys(top)},
		{"step", reflect.TypeFor[engine.StepRecord](), keys(sch.Defs["step"].Properties)},
		{"artifact", reflect.TypeFor[engine.Artifact](), keys(sch.Defs["artifact"].Properties)},
		{"custody", reflect.TypeFor[CustodySummary](), keys(sch.Properties["custody"].Properties)},
		{"signature", reflect.TypeFor[Signature](), keys(sch.Properties["signature"].Properties)},
		{"playbook", reflect.TypeFor[engine.PlaybookRef](), keys(sch.Properties["playbook"].Properties)},
		{"operator", reflect.TypeFor[Operator](), keys(sch.Properties["operator"].Properties)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fields []string
			for f := range tt.typ.Fields() {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				fields = append(fields, name)
			}
			slices.Sort(fields)
			if !slices.Equal(fields, tt.schema) {
				t.Fatalf("json fields %q, schema properties %q", fields, tt.schema)
			}
		})
	}
}
