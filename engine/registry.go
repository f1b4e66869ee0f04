package engine

import (
	"fmt"
	"sort"
	"sync"
)

// Registry holds the actions a playbook may name. It is safe for concurrent
// use. There is no package-level registry: each program and test builds its own.
type Registry struct {
	mu      sync.RWMutex
	actions map[string]Action
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{actions: map[string]Action{}}
}

// Register adds a. It panics on an empty name, a name already registered
// or two parameters of one name, as database/sql does: all are programming
// errors found at start-up. A spec built with ParamsOf panics here too when
// its declaration is wrong.
func (r *Registry) Register(a Action) {
	spec := a.Spec()
	name := spec.Name
	if name == "" {
		panic("engine: Register of an action with an empty name")
	}
	seen := map[string]bool{}
	for _, p := range spec.Params {
		if seen[p.Name] {
			panic(fmt.Sprintf("engine: Register: action %q declares parameter %q twice", name, p.Name))
		}
		seen[p.Name] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.actions[name]; dup {
		panic(fmt.Sprintf("engine: Register called twice for action %q", name))
	}
	r.actions[name] = a
}

// Lookup returns the action called name.
func (r *Registry) Lookup(name string) (Action, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.actions[name]
	return a, ok
}

// Names returns the registered action names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.actions))
	for n := range r.actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
