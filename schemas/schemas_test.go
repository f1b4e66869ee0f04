package schemas

import (
	"encoding/json"
	"testing"
)

func TestGet(t *testing.T) {
	t.Parallel()
	for _, name := range Names {
		data, err := Get(name)
		if err != nil {
			t.Errorf("Get(%q): %v", name, err)
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil || doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("Get(%q): not a 2020-12 JSON Schema (%v)", name, err)
		}
	}
	if _, err := Get("nope"); err == nil || err.Error() != `no schema "nope": choose playbook or manifest` {
		t.Errorf("Get(nope) = %v", err)
	}
}
