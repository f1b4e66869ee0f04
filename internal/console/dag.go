package console

import (
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// dag is a run's steps drawn as an SVG: one column per wave of the needs
// graph (the finally block after them), an edge per need.
type dag struct {
	Width, Height int
	Nodes         []dagNode
	Edges         []dagEdge
}

type dagNode struct {
	ID, Label, Action string
	Status            engine.StepStatus
	X, Y, W, H        int
	TX, TY            int // label position
}

type dagEdge struct {
	Path string
}

const (
	nodeW, nodeH = 168, 34
	colGap       = 56
	rowGap       = 14
	margin       = 10
	maxLabel     = 22
)

func layoutDAG(pb *engine.Playbook, steps []*stepView) dag {
	var d dag
	if pb == nil || pb.Graph == nil {
		return d
	}
	status := map[string]engine.StepStatus{}
	for _, s := range steps {
		status[s.ID] = s.Status
	}
	cols := pb.Graph.Waves()
	if pb.FinallyGraph != nil {
		cols = append(cols, pb.FinallyGraph.Waves()...)
	}
	pos := map[string]dagNode{}
	maxRows := 0
	for ci, col := range cols {
		maxRows = max(maxRows, len(col))
		for ri, id := range col {
			n := dagNode{ID: id, Label: clip(id, maxLabel), Status: status[id],
				X: margin + ci*(nodeW+colGap), Y: margin + ri*(nodeH+rowGap), W: nodeW, H: nodeH}
			if st, ok := pb.Step(id); ok {
				n.Action = st.Action
			}
			n.TX, n.TY = n.X+10, n.Y+nodeH/2+4
			pos[id] = n
			d.Nodes = append(d.Nodes, n)
		}
	}
	for _, n := range d.Nodes {
		st, ok := pb.Step(n.ID)
		if !ok {
			continue
		}
		for _, need := range st.Needs {
			from, ok := pos[need]
			if !ok {
				continue
			}
			x1, y1 := from.X+from.W, from.Y+from.H/2
			x2, y2 := n.X, n.Y+n.H/2
			mid := (x1 + x2) / 2
			d.Edges = append(d.Edges, dagEdge{Path: fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, mid, y1, mid, y2, x2, y2)})
		}
	}
	d.Width = 2*margin + len(cols)*(nodeW+colGap) - colGap
	d.Height = 2*margin + maxRows*(nodeH+rowGap) - rowGap
	return d
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// gantt is the steps on a time axis: a bar from each step's start to its
// end (now, for one still running).
type gantt struct {
	Width, Height int
	Span          string
	Bars          []ganttBar
}

type ganttBar struct {
	Label      string
	Status     engine.StepStatus
	X, Y, W    int
	LY         int
	Start, Dur string
}

const (
	ganttLabelW = 180
	ganttW      = 900
	ganttRow    = 20
)

func layoutGantt(steps []*stepView, now time.Time) gantt {
	var first, last time.Time
	for _, s := range steps {
		if s.Started.IsZero() {
			continue
		}
		end := s.Finished
		if end.IsZero() {
			end = now
		}
		if first.IsZero() || s.Started.Before(first) {
			first = s.Started
		}
		if end.After(last) {
			last = end
		}
	}
	g := gantt{Width: ganttLabelW + ganttW + margin}
	if first.IsZero() {
		return g
	}
	span := last.Sub(first)
	if span <= 0 {
		span = time.Millisecond
	}
	g.Span = span.Round(time.Millisecond).String()
	row := 0
	for _, s := range steps {
		if s.Started.IsZero() {
			continue
		}
		end := s.Finished
		if end.IsZero() {
			end = now
		}
		x := ganttLabelW + int(float64(ganttW)*float64(s.Started.Sub(first))/float64(span))
		w := max(2, int(float64(ganttW)*float64(end.Sub(s.Started))/float64(span)))
		y := margin + row*ganttRow
		g.Bars = append(g.Bars, ganttBar{Label: clip(s.ID, 26), Status: s.Status, X: x, Y: y, W: w, LY: y + 12,
			Start: "+" + s.Started.Sub(first).Round(time.Millisecond).String(), Dur: end.Sub(s.Started).Round(time.Millisecond).String()})
		row++
	}
	g.Height = 2*margin + row*ganttRow
	return g
}
