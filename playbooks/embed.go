// Package playbooks holds the built-in playbooks, embedded in the binary so
// that `firebreak run NAME` works with no playbook directory at all. One
// file a playbook; playbooks_test.go loads and validates every one.
package playbooks

import "embed"

// FS holds the built-in playbooks, *.yaml at its root. It is read-only and
// safe for concurrent use.
//
//go:embed *.yaml
var FS embed.FS
