// Package graph is the dependency graph of a playbook's steps: build, cycle
// check, stable topological order, waves, critical path.
//
// It is pure: no goroutines, no I/O, and a Graph never changes after Build,
// so one Graph may be shared by any number of goroutines. It imports
// nothing of firebreak: the engine keeps the graphs the loader built on
// its Playbook, and the runner and the planner walk those.
package graph

import (
	"errors"
	"fmt"
	"slices"
)

// ErrCycle is wrapped by every *CycleError; engine.ErrCycle is this error.
var ErrCycle = errors.New("dependency cycle")

// Node is one step as the graph sees it: its id and the ids it needs.
type Node struct {
	ID    string
	Needs []string
}

// Graph is the needs graph of one block of steps (the main steps, or the
// finally steps: they form their own graph, run after every main step ended,
// and their needs may only name other finally steps). It is immutable after
// Build.
type Graph struct {
	ids   []string       // file order
	index map[string]int // id -> position in ids
	needs [][]int        // needs[i]: what step i needs, in the order written, no repeats
	deps  [][]int        // deps[i]: steps that need step i, in file order
}

// CycleError is a dependency cycle. Path starts and ends with the same id;
// each step in it needs the next one. It wraps engine.ErrCycle.
type CycleError struct {
	Path []string
}

func (e *CycleError) Error() string {
	s := "dependency cycle: "
	for i, id := range e.Path {
		if i > 0 {
			s += " -> "
		}
		s += id
	}
	return s
}

// Unwrap makes errors.Is(err, ErrCycle) true.
func (e *CycleError) Unwrap() error { return ErrCycle }

// Build makes the graph of steps, in their file order. It reports every
// problem at once, joined (errors.Join): an empty or duplicate id, a need
// naming no step, and each cycle (*CycleError, wrapping ErrCycle, one per
// strongly connected set of steps, starting at its first step in file
// order). A need written twice counts once.
func Build(steps []Node) (*Graph, error) {
	g := &Graph{index: make(map[string]int, len(steps))}
	var errs []error
	for i, s := range steps {
		switch {
		case s.ID == "":
			errs = append(errs, fmt.Errorf("step %d has no id: give it one", i+1))
			continue
		}
		if _, dup := g.index[s.ID]; dup {
			errs = append(errs, fmt.Errorf("duplicate step id %q: rename one of them", s.ID))
			continue
		}
		g.index[s.ID] = len(g.ids)
		g.ids = append(g.ids, s.ID)
	}
	g.needs = make([][]int, len(g.ids))
	g.deps = make([][]int, len(g.ids))
	seen := make([]int, len(g.ids)) // seen[j] == i+1: step i already needs j
	for _, s := range steps {
		if s.ID == "" {
			continue
		}
		i := g.index[s.ID]
		if g.ids[i] != s.ID || g.needs[i] != nil {
			continue // a duplicate: its needs were taken from the first
		}
		g.needs[i] = []int{}
		for _, n := range s.Needs {
			j, ok := g.index[n]
			if !ok {
				errs = append(errs, fmt.Errorf("step %q needs %q, which is not a step of this block: fix the name in needs", s.ID, n))
				continue
			}
			if seen[j] != i+1 {
				seen[j] = i + 1
				g.needs[i] = append(g.needs[i], j)
				g.deps[j] = append(g.deps[j], i)
			}
		}
	}
	for i := range g.deps {
		slices.Sort(g.deps[i])
	}
	for _, c := range g.cycles() {
		errs = append(errs, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return g, nil
}

// IDs returns the step ids in file order.
func (g *Graph) IDs() []string { return slices.Clone(g.ids) }

// Needs returns the steps id needs directly, as written (repeats dropped).
func (g *Graph) Needs(id string) []string {
	i, ok := g.index[id]
	if !ok {
		return nil
	}
	return g.names(g.needs[i])
}

// Dependents returns the steps that need id directly, in file order.
func (g *Graph) Dependents(id string) []string {
	i, ok := g.index[id]
	if !ok {
		return nil
	}
	return g.names(g.deps[i])
}

func (g *Graph) names(idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = g.ids[i]
	}
	return out
}
