package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/session"
)

func runsCommand(st *cliState) *cli.Command {
	return &cli.Command{
		Name:  "runs",
		Usage: "list the runs in the state dir: id, playbook, case (BATCH/CASE for a --targets run), target, status, start, duration",
		Flags: []cli.Flag{formatFlag("table", "table", "json")},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 0, 0, "[--format table|json]"); err != nil {
				return err
			}
			format, err := checkFormat(c, "table", "json")
			if err != nil {
				return err
			}
			var b session.Backend = &session.Local{StateDir: st.stateDir}
			if st.temporal.addr != "" {
				tb, closeB, err := st.backend(c.Context, nil)
				if err != nil {
					return err
				}
				defer closeB()
				b = tb
			}
			runs, err := b.Runs(c.Context)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeRunsJSON(st, runs)
			}
			tw := tabwriter.NewWriter(st.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tPLAYBOOK\tCASE\tTARGET\tSTATUS\tSTARTED\tDURATION")
			for _, r := range runs {
				if r.Err != nil {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t-\t-\n", r.ID, orDash(r.Playbook.Name), orDash(caseOf(r)), orDash(printable(r.Target)), runErrText(r.Err))
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Playbook.Name, caseOf(r), orDash(printable(r.Target)), r.Status,
					r.StartedAt.UTC().Format(time.RFC3339), r.Duration.Round(time.Millisecond))
			}
			return tw.Flush()
		},
	}
}

// caseOf names a run's case: BATCH/CASE for a --targets run, so that two
// batches on one instance are told apart.
func caseOf(r engine.RunInfo) string {
	if r.Batch != "" && r.CaseID != "" {
		return r.Batch + "/" + r.CaseID
	}
	return r.CaseID
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runErrText is the STATUS of a run whose journal could not be read.
func runErrText(err error) string {
	if errors.Is(err, session.ErrNotStarted) {
		return "not started: refused or killed before its first step"
	}
	return "unreadable: " + firstLine(err.Error())
}

func writeRunsJSON(st *cliState, runs []engine.RunInfo) error {
	type run struct {
		ID        string    `json:"id"`
		Playbook  string    `json:"playbook"`
		CaseID    string    `json:"case_id"`
		Batch     string    `json:"batch,omitempty"`
		Target    string    `json:"target,omitempty"`
		Evidence  string    `json:"evidence,omitempty"`
		Status    string    `json:"status"`
		StartedAt time.Time `json:"started_at"`
		Duration  string    `json:"duration"`
		Error     string    `json:"error,omitempty"`
	}
	out := make([]run, 0, len(runs))
	for _, r := range runs {
		x := run{ID: r.ID, Playbook: r.Playbook.Name, CaseID: r.CaseID, Batch: r.Batch, Target: r.Target, Evidence: r.Evidence,
			Status: string(r.Status), StartedAt: r.StartedAt, Duration: r.Duration.String()}
		if errors.Is(r.Err, session.ErrNotStarted) {
			x.Status = "not_started"
		}
		if r.Err != nil {
			x.Error = r.Err.Error()
		}
		out = append(out, x)
	}
	enc := json.NewEncoder(st.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
