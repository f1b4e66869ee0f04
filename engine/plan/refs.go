package plan

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/firebreak-ir/firebreak/engine"
)

// runtimeValue reports whether v can only be known during the run: it reads
// step outputs, or the fan-out item when the items are not known yet. src
// names the expressions involved, for engine.Unknown.
func runtimeValue(v engine.Value, itemKnown bool) (src string, runtime bool) {
	var srcs []string
	for _, e := range v.Exprs() {
		srcs = append(srcs, strings.TrimSpace(e.Source))
		if len(e.Steps) > 0 || (!itemKnown && usesIdent(e, "item", "index")) {
			runtime = true
		}
	}
	return strings.Join(srcs, ", "), runtime
}

// usesIdent reports whether the expression names any of the identifiers.
// engine.Expr records only inputs and steps, so the rest is found here.
func usesIdent(e *engine.Expr, names ...string) bool {
	if e == nil || e.Program == nil {
		return false
	}
	v := &identFinder{names: names}
	root := e.Program.Node()
	ast.Walk(&root, v)
	return v.found
}

type identFinder struct {
	names []string
	found bool
}

func (v *identFinder) Visit(node *ast.Node) {
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok {
		return
	}
	for _, n := range v.names {
		if id.Value == n {
			v.found = true
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// dedupe drops repeated entries, keeping the first of each in order: a
// fan-out over many items repeats the same generic calls.
func dedupe(list []string) []string {
	if len(list) < 2 {
		return list
	}
	seen := make(map[string]bool, len(list))
	out := list[:0:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", "steps."+id)
	}
	return strings.Join(q, ", ")
}
