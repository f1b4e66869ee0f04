package plan

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/firebreak-ir/firebreak/engine"
)

// Text writes the plan for a responder to read: the playbook, the inputs,
// the critical path, then each wave's steps with their decision and calls.
func (p *Plan) Text(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("playbook %s %s (sha256 %s)\n", p.Playbook.Name, p.Playbook.Version, short(p.Playbook.SHA256))
	if p.Check {
		ew.printf("mode: check (live account read, nothing changed)\n")
	}
	if p.PermissionCheck != "" {
		ew.printf("iam: %s\n", p.PermissionCheck)
	}
	ew.printf("inputs:\n")
	if len(p.Inputs) == 0 {
		ew.printf("  (none)\n")
	}
	for _, k := range engine.SortedKeys(p.Inputs) {
		ew.printf("  %s = %s\n", k, engine.Format(p.Inputs[k]))
	}
	ew.printf("critical path: %s\n", strings.Join(p.CriticalPath, " -> "))
	for i, wave := range p.Waves {
		ew.printf("\nwave %d\n", i)
		for _, id := range wave {
			if st, ok := p.Step(id); ok {
				writeStep(ew, st)
			}
		}
	}
	run, skip, rt := p.counts()
	ew.printf("\n%d step(s): %d run, %d skip, %d decided at runtime\n", len(p.Steps), run, skip, rt)
	return ew.err
}

func writeStep(ew *errWriter, st Step) {
	tags := []string{string(st.Decision)}
	if st.Finally {
		tags = append(tags, "finally")
	}
	if st.Mutating {
		tags = append(tags, "mutating")
	}
	if st.Approve != "" {
		tags = append(tags, "needs approval")
	}
	ew.printf("  %s (%s) [%s]\n", st.ID, st.Action, strings.Join(tags, ", "))
	if len(st.Needs) > 0 {
		ew.printf("      needs: %s\n", strings.Join(st.Needs, ", "))
	}
	if st.Reason != "" {
		ew.printf("      why: %s\n", st.Reason)
	}
	if st.ForEach != "" {
		ew.printf("      for_each: %s\n", st.ForEach)
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 1, ' ', 0)
	for _, c := range st.Calls {
		fmt.Fprintf(tw, "      call:\t%s\n", c)
	}
	for _, n := range st.Notes {
		fmt.Fprintf(tw, "      note:\t%s\n", n)
	}
	for _, pr := range st.Problems {
		fmt.Fprintf(tw, "      problem:\t%s\n", pr)
	}
	tw.Flush()
}

func (p *Plan) counts() (run, skip, runtime int) {
	for _, s := range p.Steps {
		switch s.Decision {
		case DecisionRun:
			run++
		case DecisionSkip:
			skip++
		case DecisionRuntime:
			runtime++
		}
	}
	return run, skip, runtime
}

// Problems returns every step's problems as "step: problem", for callers
// that must decide whether a checked plan is clean.
func (p *Plan) Problems() []string {
	var out []string
	for _, s := range p.Steps {
		for _, pr := range s.Problems {
			out = append(out, s.ID+": "+pr)
		}
	}
	return out
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// errWriter keeps the first write error so the renderers stay readable.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
