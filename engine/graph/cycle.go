package graph

import "slices"

// cycles finds one cycle in each strongly connected set of steps, in a
// stable form: it starts at the set's first step in file order and is the
// shortest way back to it, preferring earlier steps on ties. So the same
// playbook always gives the same message, whatever the map order.
func (g *Graph) cycles() []*CycleError {
	var out []*CycleError
	for _, scc := range g.components() {
		if len(scc) == 1 && !slices.Contains(g.needs[scc[0]], scc[0]) {
			continue
		}
		out = append(out, &CycleError{Path: g.names(g.shortestLoop(scc))})
	}
	slices.SortFunc(out, func(a, b *CycleError) int { return g.index[a.Path[0]] - g.index[b.Path[0]] })
	return out
}

// shortestLoop is a breadth-first search along needs, inside the component,
// from its first step back to itself.
func (g *Graph) shortestLoop(scc []int) []int {
	start := slices.Min(scc)
	in := make(map[int]bool, len(scc))
	for _, i := range scc {
		in[i] = true
	}
	prev := map[int]int{}
	queue := []int{start}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		next := slices.Clone(g.needs[cur])
		slices.Sort(next)
		for _, n := range next {
			if n == start {
				path := []int{start}
				for at := cur; at != start; at = prev[at] {
					path = append(path, at)
				}
				slices.Reverse(path[1:])
				return append(path, start)
			}
			if _, seen := prev[n]; seen || !in[n] {
				continue
			}
			prev[n] = cur
			queue = append(queue, n)
		}
	}
	return []int{start, start} // unreachable for a real component
}

// components is Tarjan's algorithm, iterative so that a long chain of
// steps cannot exhaust the stack.
func (g *Graph) components() [][]int {
	n := len(g.ids)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var out [][]int
	counter := 0
	type frame struct{ v, edge int }
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{v: root}}
		index[root], low[root] = counter, counter
		counter++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.edge < len(g.needs[f.v]) {
				w := g.needs[f.v][f.edge]
				f.edge++
				if index[w] < 0 {
					index[w], low[w] = counter, counter
					counter++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{v: w})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] != index[v] {
				continue
			}
			var scc []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				scc = append(scc, w)
				if w == v {
					break
				}
			}
			out = append(out, scc)
		}
	}
	return out
}
