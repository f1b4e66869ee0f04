// Package local holds the actions that need no cloud: `command`, which runs
// a program on the responder's machine and keeps what it printed as
// evidence. They run anywhere, so the built-in local-triage playbook and
// the examples are made of them.
package local

import "github.com/firebreak-ir/firebreak/engine"

// Register adds the local actions to r. It panics if one is already
// registered, as engine.Registry.Register does.
func Register(r *engine.Registry) {
	r.Register(&command{})
}
