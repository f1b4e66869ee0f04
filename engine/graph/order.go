package graph

import (
	"container/heap"
	"slices"
	"time"
)

// order returns the steps in a topological order (every step after all it
// needs), stable: among the steps ready at once, file order decides.
func (g *Graph) order() []string {
	pending := make([]int, len(g.ids))
	ready := &intHeap{}
	for i := range g.ids {
		pending[i] = len(g.needs[i])
		if pending[i] == 0 {
			heap.Push(ready, i)
		}
	}
	out := make([]string, 0, len(g.ids))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		out = append(out, g.ids[i])
		for _, d := range g.deps[i] {
			if pending[d]--; pending[d] == 0 {
				heap.Push(ready, d)
			}
		}
	}
	return out
}

// Waves groups the steps by depth: wave i holds the steps whose longest
// needs-path from a root has i edges, in file order. The steps of a wave
// never need one another, so each wave can run in parallel.
func (g *Graph) Waves() [][]string {
	depth := make([]int, len(g.ids))
	var waves [][]string
	for _, id := range g.order() {
		i := g.index[id]
		for _, n := range g.needs[i] {
			depth[i] = max(depth[i], depth[n]+1)
		}
	}
	for i, id := range g.ids {
		for len(waves) <= depth[i] {
			waves = append(waves, nil)
		}
		waves[depth[i]] = append(waves[depth[i]], id)
	}
	return waves
}

// CriticalPath returns the heaviest path from a root to a leaf (a step
// nothing needs), the weight of a path being the sum of its steps' weights.
// weight nil counts 1 a step; a negative weight counts 0. Ties go to the
// step earlier in file order. It is empty for an empty graph.
func (g *Graph) CriticalPath(weight func(id string) time.Duration) []string {
	if len(g.ids) == 0 {
		return nil
	}
	w := func(i int) time.Duration {
		if weight == nil {
			return 1
		}
		return max(weight(g.ids[i]), 0)
	}
	total := make([]time.Duration, len(g.ids))
	best := make([]int, len(g.ids)) // the need on the heaviest path, -1 at a root
	for _, id := range g.order() {
		i := g.index[id]
		best[i] = -1
		for _, n := range g.needs[i] {
			if best[i] < 0 || total[n] > total[best[i]] || total[n] == total[best[i]] && n < best[i] {
				best[i] = n
			}
		}
		total[i] = w(i)
		if best[i] >= 0 {
			total[i] += total[best[i]]
		}
	}
	end := -1
	for i := range g.ids {
		if len(g.deps[i]) == 0 && (end < 0 || total[i] > total[end]) {
			end = i
		}
	}
	var path []string
	for i := end; i >= 0; i = best[i] {
		path = append(path, g.ids[i])
	}
	slices.Reverse(path) // walked from the end; appending then reversing keeps it linear
	return path
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
