package cli

import (
	"fmt"
	"strings"

	"github.com/firebreak-ir/firebreak/engine"
)

// compact draws one line per run (label) instead of one per step, for
// batches too big for the screen: how many steps ended how, and what runs
// now. At most max lines; the rest are counted on the last one.
func compact(rows []*row, max, width int) []string {
	var labels []string
	byLabel := map[string][]*row{}
	for _, r := range rows {
		if _, seen := byLabel[r.label]; !seen {
			labels = append(labels, r.label)
		}
		byLabel[r.label] = append(byLabel[r.label], r)
	}
	var out []string
	for i, l := range labels {
		if len(out) == max-1 && i < len(labels)-1 {
			out = append(out, fmt.Sprintf("  ... %d more run(s)", len(labels)-i))
			break
		}
		out = append(out, clip(runLine(l, byLabel[l]), width))
	}
	return out
}

// runLine sums up one run's steps.
func runLine(label string, rows []*row) string {
	counts := map[engine.StepStatus]int{}
	var running, failed []string
	for _, r := range rows {
		counts[r.status]++
		switch r.status {
		case engine.StatusRunning:
			running = append(running, r.step)
		case engine.StatusFailed:
			failed = append(failed, r.step)
		}
	}
	if label == "" {
		label = "run"
	}
	done := counts[engine.StatusSucceeded] + counts[engine.StatusFailed] + counts[engine.StatusSkipped]
	line := fmt.Sprintf("  %-24s %d/%d done", label, done, len(rows))
	if n := counts[engine.StatusFailed]; n > 0 {
		line += fmt.Sprintf(", %d failed (%s)", n, strings.Join(failed, ", "))
	}
	if len(running) > 0 {
		line += ", running " + strings.Join(running, ", ")
	}
	if n := counts[engine.StatusWaiting]; n > 0 {
		line += fmt.Sprintf(", %d waiting for approval", n)
	}
	return line
}
