package engine

import (
	"errors"
	"fmt"
	"slices"

	"github.com/firebreak-ir/firebreak/engine/graph"
)

// GraphOf builds the needs graph of one block of steps (the main steps or
// the finally steps), in their order. Its errors are graph.Build's: every
// unknown need, duplicate id and cycle (wrapping ErrCycle), joined.
func GraphOf(steps []*Step) (*graph.Graph, error) {
	nodes := make([]graph.Node, len(steps))
	for i, s := range steps {
		if s != nil {
			nodes[i] = graph.Node{ID: s.ID, Needs: s.Needs}
		}
	}
	return graph.Build(nodes)
}

// BuildGraphs sets p.Graph and p.FinallyGraph from p.Steps and p.Finally.
// The loader has done it for every playbook it returns; call it on a
// Playbook made by hand, after its last change to the steps.
func (p *Playbook) BuildGraphs() error {
	main, err := GraphOf(p.Steps)
	if err != nil {
		return fmt.Errorf("playbook %q: %w", p.Name, err)
	}
	fin, err := GraphOf(p.Finally)
	if err != nil {
		return fmt.Errorf("playbook %q finally: %w", p.Name, err)
	}
	p.Graph, p.FinallyGraph = main, fin
	return nil
}

// errNoGraph: a Playbook made by hand without BuildGraphs, or changed after.
var errNoGraph = errors.New("playbook has no graph of its steps")

// Graphs returns the graphs of the main and the finally steps. It fails,
// saying what to do, when p has none or they do not name p's steps in
// order (a step added or removed after they were built): a stale graph
// would run steps in a wrong order. It changes nothing.
func (p *Playbook) Graphs() (main, fin *graph.Graph, err error) {
	if p.Graph == nil || p.FinallyGraph == nil {
		return nil, nil, fmt.Errorf("playbook %q: %w: load it with engine/loader, or call BuildGraphs once its steps are set", p.Name, errNoGraph)
	}
	if !sameIDs(p.Graph, p.Steps) || !sameIDs(p.FinallyGraph, p.Finally) {
		return nil, nil, fmt.Errorf("playbook %q: %w that matches its steps (they changed after BuildGraphs): call BuildGraphs again", p.Name, errNoGraph)
	}
	return p.Graph, p.FinallyGraph, nil
}

func sameIDs(g *graph.Graph, steps []*Step) bool {
	return slices.EqualFunc(g.IDs(), steps, func(id string, s *Step) bool { return s != nil && s.ID == id })
}
