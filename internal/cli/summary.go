package cli

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// printSummary ends a run: a table of its steps, the outputs a responder
// acts on, and where its evidence is, on stderr; with --log-format json,
// one log record instead.
func (st *cliState) printSummary(out *outcome) {
	if st.logFormat == "json" {
		st.logger().Info("run ended", "run", out.runID, "case", out.caseID, "status", out.status,
			"evidence", out.caseURI, "manifest", out.manifestURI, "changed", out.headlines)
		st.resumeHint(out)
		return
	}
	if out.result != nil {
		fmt.Fprintln(st.stderr)
		writeStepTable(st.stderr, out.pb, out.result.Steps)
		writeHeadlines(st.stderr, out.headlines)
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
		if errors.Is(out.err, engine.ErrApprovalRequired) {
			st.approvalHint(out)
			return
		}
		st.logf("interrupted: continue with `firebreak resume %s`", out.runID)
	case engine.RunFailed:
		st.logf("failed: fix the cause above, then `firebreak resume %s` runs the failed steps again", out.runID)
	}
}

// approvalHint says which questions wait and how to answer them: a run
// with no terminal to ask on stops at its first question (exit 3).
func (st *cliState) approvalHint(out *outcome) {
	for _, q := range waitingQuestions(out) {
		st.logf("step %q asks: %s", q.step, q.question)
	}
	st.logf("no terminal to ask on: stopped there. Approve with `firebreak resume %s --yes`, or answer on a terminal with `firebreak resume %s`", out.runID, out.runID)
}

type question struct{ step, question string }

// waitingQuestions are the approve steps the run stopped at.
func waitingQuestions(out *outcome) []question {
	var qs []question
	if out.result == nil || out.pb == nil {
		return nil
	}
	for _, s := range out.result.Steps {
		if s.Status != engine.StatusWaiting {
			continue
		}
		if step, ok := out.pb.Step(s.ID); ok {
			qs = append(qs, question{s.ID, step.Approve})
		}
	}
	return qs
}

// writeStepTable is the run's steps as they ended. A failure that
// continue_on_error allows is marked so: it did not fail the run.
func writeStepTable(w io.Writer, pb *engine.Playbook, steps []engine.StepRecord) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tACTION\tSTATUS\tATTEMPTS\tDURATION\tDETAIL")
	for _, s := range steps {
		detail := s.SkipReason
		if s.Error != "" {
			detail = firstLine(s.Error)
		}
		status := statusText(pb, s.ID, s.Status)
		if s.Status == engine.StatusWaiting && pb != nil {
			if step, ok := pb.Step(s.ID); ok {
				detail = "asks: " + step.Approve
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Action, status, s.Attempts, stepDuration(s), clip(printable(detail), 100))
	}
	tw.Flush()
}

// statusText is a step's status for a person: "failed (allowed)" for a
// failure its continue_on_error lets pass.
func statusText(pb *engine.Playbook, id string, status engine.StepStatus) string {
	if status == engine.StatusFailed && allowedToFail(pb, id) {
		return "failed (allowed)"
	}
	return string(status)
}

func allowedToFail(pb *engine.Playbook, id string) bool {
	if pb == nil {
		return false
	}
	s, ok := pb.Step(id)
	return ok && s.ContinueOnError
}

func stepDuration(s engine.StepRecord) string {
	if s.StartedAt == nil || s.FinishedAt == nil {
		return "-"
	}
	return s.FinishedAt.Sub(*s.StartedAt).Round(time.Millisecond).String()
}

// failedStep is the first step that failed the run, and its error, for
// a batch's table: "gather: describing instance ...".
func failedStep(out *outcome) string {
	if out.result == nil {
		return ""
	}
	for _, s := range out.result.Steps {
		if s.Status == engine.StatusFailed && !allowedToFail(out.pb, s.ID) {
			return s.ID + ": " + firstLine(s.Error)
		}
	}
	return ""
}
