package graph

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// steps builds nodes from "id:need,need" specs, in order.
func steps(specs ...string) []Node {
	var out []Node
	for _, s := range specs {
		id, needs, _ := strings.Cut(s, ":")
		st := Node{ID: id}
		if needs != "" {
			st.Needs = strings.Split(needs, ",")
		}
		out = append(out, st)
	}
	return out
}

// spec is host-compromise's shape.
var spec = steps("gather", "isolate:gather", "memory:isolate", "disks:isolate", "stop:memory,disks")

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []Node
		want  string
		cycle bool
	}{
		{name: "unknown need", steps: steps("a", "b:a,zz"), want: `step "b" needs "zz", which is not a step of this block: fix the name in needs`},
		{name: "self need", steps: steps("a:a"), want: "dependency cycle: a -> a", cycle: true},
		{name: "two cycle", steps: steps("a:b", "b:a"), want: "dependency cycle: a -> b -> a", cycle: true},
		{name: "three cycle from the first in file order", steps: steps("x", "c:b", "a:c", "b:a"), want: "dependency cycle: c -> b -> a -> c", cycle: true},
		{name: "need order does not change the message", steps: steps("b:a", "a:c", "c:b"), want: "dependency cycle: b -> a -> c -> b", cycle: true},
		{name: "shortest loop back", steps: steps("a:b,c", "b:c", "c:a"), want: "dependency cycle: a -> c -> a", cycle: true},
		{name: "two separate cycles, both reported", steps: steps("p:q", "q:p", "a", "r:s", "s:r"), want: "dependency cycle: p -> q -> p\ndependency cycle: r -> s -> r", cycle: true},
		{name: "cycle downstream of a step", steps: steps("a", "b:a,c", "c:b"), want: "dependency cycle: b -> c -> b", cycle: true},
		{name: "a finally block cannot need a main step", steps: []Node{{ID: "log", Needs: []string{"gather"}}},
			want: `step "log" needs "gather", which is not a step of this block: fix the name in needs`},
		{name: "duplicate id", steps: steps("a", "a"), want: `duplicate step id "a": rename one of them`},
		{name: "empty id", steps: steps("a", ""), want: "step 2 has no id: give it one"},
		{name: "all at once", steps: steps("a:a", "b:nope"), want: "step \"b\" needs \"nope\", which is not a step of this block: fix the name in needs\ndependency cycle: a -> a", cycle: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := Build(tt.steps)
			if err == nil {
				t.Fatalf("Build gave a graph %v, want error %q", g.IDs(), tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %q\nwant %q", got, tt.want)
			}
			if got := errors.Is(err, ErrCycle); got != tt.cycle {
				t.Errorf("errors.Is(err, ErrCycle) = %v, want %v", got, tt.cycle)
			}
			var ce *CycleError
			if tt.cycle && (!errors.As(err, &ce) || ce.Path[0] != ce.Path[len(ce.Path)-1]) {
				t.Errorf("want a *CycleError with a closed path, got %#v", ce)
			}
		})
	}
}

func TestQueries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		steps    []Node
		order    []string
		waves    [][]string
		critical []string
	}{
		{name: "empty", steps: nil, order: []string{}, waves: nil, critical: nil},
		{name: "one", steps: steps("a"), order: []string{"a"}, waves: [][]string{{"a"}}, critical: []string{"a"}},
		{name: "spec example", steps: spec,
			order:    []string{"gather", "isolate", "memory", "disks", "stop"},
			waves:    [][]string{{"gather"}, {"isolate"}, {"memory", "disks"}, {"stop"}},
			critical: []string{"gather", "isolate", "memory", "stop"}},
		{name: "file order among ready steps, not needs order", steps: steps("z", "y", "x:y,z", "w"),
			order: []string{"z", "y", "x", "w"}, waves: [][]string{{"z", "y", "w"}, {"x"}}, critical: []string{"z", "x"}},
		{name: "step written before what it needs", steps: steps("late:early", "early"),
			order: []string{"early", "late"}, waves: [][]string{{"early"}, {"late"}}, critical: []string{"early", "late"}},
		{name: "wave is the longest path", steps: steps("a", "b:a", "c:b", "d:a,c"),
			order: []string{"a", "b", "c", "d"}, waves: [][]string{{"a"}, {"b"}, {"c"}, {"d"}}, critical: []string{"a", "b", "c", "d"}},
		{name: "repeated need counts once", steps: steps("a", "b:a,a"),
			order: []string{"a", "b"}, waves: [][]string{{"a"}, {"b"}}, critical: []string{"a", "b"}},
		{name: "independent chains, tie goes to the earlier leaf", steps: steps("a", "b", "c:b", "d:a"),
			order: []string{"a", "b", "c", "d"}, waves: [][]string{{"a", "b"}, {"c", "d"}}, critical: []string{"b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := Build(tt.steps)
			if err != nil {
				t.Fatal(err)
			}
			ids := g.IDs()
			for i, s := range tt.steps {
				if ids[i] != s.ID {
					t.Errorf("IDs() = %v, want file order", ids)
				}
			}
			if got := g.order(); !reflect.DeepEqual(got, tt.order) {
				t.Errorf("order() = %v, want %v", got, tt.order)
			}
			if got := g.Waves(); !reflect.DeepEqual(got, tt.waves) {
				t.Errorf("Waves() = %v, want %v", got, tt.waves)
			}
			if got := g.CriticalPath(nil); !reflect.DeepEqual(got, tt.critical) {
				t.Errorf("CriticalPath(nil) = %v, want %v", got, tt.critical)
			}
		})
	}
}

func TestCriticalPathWeights(t *testing.T) {
	t.Parallel()
	g, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		weights map[string]time.Duration
		want    []string
	}{
		{name: "the slow branch", weights: map[string]time.Duration{"memory": time.Minute, "disks": time.Hour}, want: []string{"gather", "isolate", "disks", "stop"}},
		{name: "tie goes to file order", weights: map[string]time.Duration{"memory": time.Hour, "disks": time.Hour}, want: []string{"gather", "isolate", "memory", "stop"}},
		{name: "negative counts zero", weights: map[string]time.Duration{"memory": -time.Hour, "disks": 0}, want: []string{"gather", "isolate", "memory", "stop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := g.CriticalPath(func(id string) time.Duration { return tt.weights[id] })
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CriticalPath = %v, want %v", got, tt.want)
			}
		})
	}
	heavyRoot, _ := Build(steps("big", "a", "b:a"))
	if got, want := heavyRoot.CriticalPath(func(id string) time.Duration {
		return map[string]time.Duration{"big": time.Hour, "a": time.Second, "b": time.Second}[id]
	}), []string{"big"}; !reflect.DeepEqual(got, want) {
		t.Errorf("CriticalPath with a heavy lone step = %v, want %v", got, want)
	}
}

func TestRelations(t *testing.T) {
	t.Parallel()
	g, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id         string
		dependents []string
		needs      []string
	}{
		{id: "gather", dependents: []string{"isolate"}, needs: []string{}},
		{id: "memory", dependents: []string{"stop"}, needs: []string{"isolate"}},
		{id: "isolate", dependents: []string{"memory", "disks"}, needs: []string{"gather"}},
		{id: "stop", dependents: []string{}, needs: []string{"memory", "disks"}},
		{id: "nope", dependents: nil, needs: nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			if got := g.Dependents(tt.id); !reflect.DeepEqual(got, tt.dependents) {
				t.Errorf("Dependents = %v, want %v", got, tt.dependents)
			}
			if got := g.Needs(tt.id); !reflect.DeepEqual(got, tt.needs) {
				t.Errorf("Needs = %v, want %v", got, tt.needs)
			}
		})
	}
}

// TestRandomDAGs checks the invariants on many random acyclic graphs
// against a brute-force reading of the same needs.
func TestRandomDAGs(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := 1 + rng.IntN(25)
		perm := rng.Perm(n) // a hidden order the needs respect
		st := make([]Node, n)
		for i := range st {
			st[i] = Node{ID: fmt.Sprintf("s%d", i)}
		}
		for i := range st {
			for j := range st {
				if perm[j] < perm[i] && rng.IntN(4) == 0 {
					st[i].Needs = append(st[i].Needs, st[j].ID)
				}
			}
		}
		g, err := Build(st)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		checkInvariants(t, g, st)
		// Closing a loop anywhere must be caught.
		if last := st[slices.Index(perm, n-1)]; n > 1 && len(bruteAncestors(st, last.ID)) > 0 {
			root := keys(bruteAncestors(st, last.ID))[0]
			i := slices.IndexFunc(st, func(s Node) bool { return s.ID == root })
			st[i].Needs = append(st[i].Needs, last.ID)
			if _, err := Build(st); !errors.Is(err, ErrCycle) {
				t.Fatalf("round %d: a loop %s -> %s gave %v, want a cycle", round, root, last.ID, err)
			}
		}
	}
}

func checkInvariants(t *testing.T, g *Graph, st []Node) {
	t.Helper()
	pos := map[string]int{}
	for i, id := range g.order() {
		pos[id] = i
	}
	if len(pos) != len(st) {
		t.Fatalf("order has %d steps, want %d", len(pos), len(st))
	}
	wave := map[string]int{}
	for w, ids := range g.Waves() {
		for _, id := range ids {
			wave[id] = w
		}
	}
	for _, s := range st {
		deepest := -1
		for _, n := range s.Needs {
			if pos[n] >= pos[s.ID] {
				t.Errorf("order puts %s before %s, which it needs", s.ID, n)
			}
			deepest = max(deepest, wave[n])
		}
		if wave[s.ID] != deepest+1 {
			t.Errorf("%s in wave %d, want %d", s.ID, wave[s.ID], deepest+1)
		}
		if got, want := g.Dependents(s.ID), bruteDependents(st, s.ID); !reflect.DeepEqual(got, want) {
			t.Errorf("Dependents(%s) = %v, want %v", s.ID, got, want)
		}
	}
	cp := g.CriticalPath(nil)
	if len(cp) != len(g.Waves()) {
		t.Errorf("critical path %v has %d steps, want the number of waves %d", cp, len(cp), len(g.Waves()))
	}
	for i := 1; i < len(cp); i++ {
		if !slices.Contains(g.Needs(cp[i]), cp[i-1]) {
			t.Errorf("critical path %v: %s does not need %s", cp, cp[i], cp[i-1])
		}
	}
}

// bruteDependents are the steps that need id, in file order.
func bruteDependents(st []Node, id string) []string {
	out := []string{}
	for _, s := range st {
		if slices.Contains(s.Needs, id) {
			out = append(out, s.ID)
		}
	}
	return out
}

func bruteAncestors(st []Node, id string) map[string]bool {
	needs := map[string][]string{}
	for _, s := range st {
		needs[s.ID] = s.Needs
	}
	out := map[string]bool{}
	var visit func(string)
	visit = func(id string) {
		for _, n := range needs[id] {
			if !out[n] {
				out[n] = true
				visit(n)
			}
		}
	}
	visit(id)
	return out
}

// TestLongChain makes sure nothing recurses once per step.
func TestLongChain(t *testing.T) {
	t.Parallel()
	const n = 100000
	st := make([]Node, n)
	for i := range st {
		st[i] = Node{ID: fmt.Sprintf("s%d", i)}
		if i > 0 {
			st[i].Needs = []string{st[i-1].ID}
		}
	}
	st[0].Needs = []string{st[n-1].ID}
	_, err := Build(st)
	var ce *CycleError
	if !errors.As(err, &ce) || len(ce.Path) != n+1 {
		t.Fatalf("a %d-step loop: got %v", n, err)
	}
	st[0].Needs = nil
	g, err := Build(st)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(g.Waves()); got != n {
		t.Errorf("Waves: %d, want %d", got, n)
	}
}

func BenchmarkBuildOrder(b *testing.B) {
	st := make([]Node, 2000)
	for i := range st {
		st[i] = Node{ID: fmt.Sprintf("s%d", i)}
		for j := 1; j <= 3 && i-j*7 >= 0; j++ {
			st[i].Needs = append(st[i].Needs, st[i-j*7].ID)
		}
	}
	for b.Loop() {
		g, err := Build(st)
		if err != nil {
			b.Fatal(err)
		}
		g.order()
		g.Waves()
		g.CriticalPath(nil)
	}
}

func keys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}
