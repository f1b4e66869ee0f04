// Package schemas embeds the JSON Schemas firebreak publishes: the
// playbook format (for editors) and the evidence manifest. `firebreak
// schema NAME` prints them.
package schemas

import (
	"embed"
	"fmt"
)

// FS holds every *.schema.json of this directory.
//
//go:embed *.json
var FS embed.FS

// Names are the schemas Get knows.
var Names = []string{"playbook", "manifest"}

// Get returns the schema called name ("playbook" or "manifest").
func Get(name string) ([]byte, error) {
	data, err := FS.ReadFile(name + ".schema.json")
	if err != nil {
		return nil, fmt.Errorf("no schema %q: choose playbook or manifest", name)
	}
	return data, nil
}
