package plan

import (
	"fmt"
	"io"
	"strings"
)

// Dot writes the step DAG in Graphviz dot: one box per step labelled with
// its action and decision, skipped steps dashed, runtime decisions dotted,
// the critical path drawn bold, finally steps in their own cluster.
func (p *Plan) Dot(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("digraph %s {\n", dotQuote(p.Playbook.Name))
	ew.printf("  rankdir=LR;\n  node [shape=box, style=rounded];\n")
	var finally []Step
	for _, s := range p.Steps {
		if s.Finally {
			finally = append(finally, s)
			continue
		}
		ew.printf("  %s;\n", dotNode(s))
	}
	if len(finally) > 0 {
		ew.printf("  subgraph cluster_finally {\n    label=\"finally\";\n")
		for _, s := range finally {
			ew.printf("    %s;\n", dotNode(s))
		}
		ew.printf("  }\n")
	}
	crit := p.criticalEdges()
	for _, s := range p.Steps {
		for _, n := range s.Needs {
			attr := ""
			if crit[[2]string{n, s.ID}] {
				attr = " [penwidth=2]"
			}
			ew.printf("  %s -> %s%s;\n", dotQuote(n), dotQuote(s.ID), attr)
		}
	}
	ew.printf("}\n")
	return ew.err
}

func dotNode(s Step) string {
	label := dotQuote(s.ID + "\n" + s.Action + "\n" + string(s.Decision))
	// Real newlines become dot's own line-break escape, after quoting so
	// that its backslash is not doubled.
	label = strings.ReplaceAll(label, "\n", `\n`)
	switch s.Decision {
	case DecisionSkip:
		return fmt.Sprintf("%s [label=%s, style=\"rounded,dashed\", color=gray50, fontcolor=gray50]", dotQuote(s.ID), label)
	case DecisionRuntime:
		return fmt.Sprintf("%s [label=%s, style=\"rounded,dotted\"]", dotQuote(s.ID), label)
	}
	return fmt.Sprintf("%s [label=%s]", dotQuote(s.ID), label)
}

func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Mermaid writes the step DAG as a Mermaid flowchart, with the same
// conventions as Dot: thick arrows on the critical path, skipped steps
// dashed, runtime decisions dotted.
func (p *Plan) Mermaid(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("flowchart LR\n")
	// Step ids may hold characters Mermaid reads as syntax; nodes get
	// positional ids and the step id goes into the label.
	node := map[string]string{}
	for i, s := range p.Steps {
		node[s.ID] = fmt.Sprintf("s%d", i)
	}
	var finally []Step
	for _, s := range p.Steps {
		if s.Finally {
			finally = append(finally, s)
			continue
		}
		ew.printf("  %s\n", mermaidNode(node[s.ID], s))
	}
	if len(finally) > 0 {
		ew.printf("  subgraph finally\n")
		for _, s := range finally {
			ew.printf("    %s\n", mermaidNode(node[s.ID], s))
		}
		ew.printf("  end\n")
	}
	crit := p.criticalEdges()
	for _, s := range p.Steps {
		for _, n := range s.Needs {
			arrow := "-->"
			if crit[[2]string{n, s.ID}] {
				arrow = "==>"
			}
			ew.printf("  %s %s %s\n", node[n], arrow, node[s.ID])
		}
	}
	ew.printf("  classDef skip stroke-dasharray: 5 5,color:#888\n")
	ew.printf("  classDef runtime stroke-dasharray: 2 2\n")
	for _, s := range p.Steps {
		if s.Decision == DecisionSkip || s.Decision == DecisionRuntime {
			ew.printf("  class %s %s\n", node[s.ID], s.Decision)
		}
	}
	return ew.err
}

func mermaidNode(id string, s Step) string {
	esc := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;")
	return fmt.Sprintf(`%s["%s<br/>%s<br/>%s"]`, id, esc.Replace(s.ID), esc.Replace(s.Action), s.Decision)
}

// criticalEdges returns the edges of the critical path.
func (p *Plan) criticalEdges() map[[2]string]bool {
	edges := map[[2]string]bool{}
	for i := 1; i < len(p.CriticalPath); i++ {
		edges[[2]string{p.CriticalPath[i-1], p.CriticalPath[i]}] = true
	}
	return edges
}
