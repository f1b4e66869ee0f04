package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// printSummary ends a run: a table of its steps and where its evidence is,
// on stderr; with --log-format json, one log record instead.
func (st *cliState) printSummary(out *outcome) {
	if st.logFormat == "json" {
		st.logger().Info("run ended", "run", out.runID, "case", out.caseID, "status", out.status,
			"evidence", out.caseURI, "manifest", out.manifestURI)
		st.resumeHint(out)
		return
	}
	if out.result != nil {
		fmt.Fprintln(st.stderr)
		writeStepTable(st.stderr, out.result.Steps)
	}
	if out.status != "" {
		fmt.Fprintf(st.stderr, "\nrun %s: %s\n", out.runID, out.status)
	}
	if out.caseURI != "" {
		fmt.Fprintf(st.stderr, "evidence: %s\nmanifest: %s\n", out.caseURI, out.manifestURI)
	}
	st.resumeHint(out)
}

func (st *cliState) resumeHint(out *outcome) {
	switch out.status {
	case engine.RunInterrupted:
		if out.err != nil && strings.Contains(out.err.Error(), "firebreak resume") {
			// The runner says why it stopped (a signal, an approval
			// nobody could give) and how to go on.
			st.logf("interrupted: %v", out.err)
			return
		}
		st.logf("interrupted: continue with `firebreak resume %s`", out.runID)
	case engine.RunFailed:
		st.logf("failed: fix the cause above, then `firebreak resume %s` runs the failed steps again", out.runID)
	}
}

func writeStepTable(w io.Writer, steps []engine.StepRecord) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tACTION\tSTATUS\tATTEMPTS\tDURATION\tDETAIL")
	for _, s := range steps {
		detail := s.SkipReason
		if s.Error != "" {
			detail = firstLine(s.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Action, s.Status, s.Attempts, stepDuration(s), clip(detail, 100))
	}
	tw.Flush()
}

func stepDuration(s engine.StepRecord) string {
	if s.StartedAt == nil || s.FinishedAt == nil {
		return "-"
	}
	return s.FinishedAt.Sub(*s.StartedAt).Round(time.Millisecond).String()
}
