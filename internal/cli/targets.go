package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
)

// defaultTargetRuns bounds concurrent --targets runs when --parallelism is 0.
const defaultTargetRuns = 4

// runTargets starts one run per line of the targets file, each with the
// line as the playbook's target input and its own case under the batch's
// case dir, at most --parallelism at once. Everything is checked before
// any run starts, so a typo on line 40 stops nothing half-way: every
// line's inputs and case id, that no case of the batch exists already,
// and the batch record (evidence.Batch), written before the first run so
// that verify misses no case, whatever happens to the batch after.
func (st *cliState) runTargets(ctx context.Context, reg *engine.Registry, pb *engine.Playbook, in *runInputs, file string, opts runOptions) error {
	sets, err := st.targetInputs(pb, in, file)
	if err != nil {
		return err
	}
	jobs, err := targetJobs(reg, pb, in, sets)
	if err != nil {
		return err
	}
	all := make([]map[string]any, len(jobs))
	for i, j := range jobs {
		all[i] = j.req.Inputs
	}
	if err := st.preflight(ctx, reg, pb, all, opts); err != nil {
		return err
	}
	batch := opts.caseID
	if batch == "" {
		batch = evidence.NewCaseID(time.Now().UTC())
	}
	loc, err := opts.evidence.Join(batch)
	if err != nil {
		return usageErrorf("--case %q: %v", batch, err)
	}
	if err := st.recordBatch(ctx, reg, pb, loc, batch, jobs, opts); err != nil {
		return err
	}
	limit := opts.parallelism
	if limit == 0 {
		limit = defaultTargetRuns
	}
	// Each run's own step parallelism is the playbook's: --parallelism
	// bounds the runs here, not the steps inside them.
	opts.parallelism = 0
	d := st.newDisplay()
	for _, j := range jobs {
		j.yes = opts.yes
		j.req.Evidence, j.req.SignKey, j.req.Parallelism = loc, opts.signKey, opts.parallelism
		d.addRun(j.req.Label, pb, nil)
	}
	m, closeM, err := st.sessions(ctx, reg)
	if err != nil {
		return err
	}
	defer closeM()
	outs := make([]*outcome, len(jobs))
	var g errgroup.Group
	g.SetLimit(limit)
	for i, j := range jobs {
		g.Go(func() error {
			outs[i] = st.startJob(ctx, m, j, d)
			return nil
		})
	}
	g.Wait()
	st.endDisplay(d)
	st.logf("\nbatch %s: %d run(s), evidence under %s", batch, len(jobs), loc)
	return st.batchSummary(outs)
}

// recordBatch refuses a batch any of whose cases exists already, then
// writes the batch record (signed with --sign-key) listing every case.
func (st *cliState) recordBatch(ctx context.Context, reg *engine.Registry, pb *engine.Playbook, loc evidence.Location, batch string, jobs []*job, opts runOptions) error {
	store, err := st.openStore(ctx, loc)
	if err != nil {
		return withCode(exitUsage, err)
	}
	signer, err := loadSigner(opts.signKey)
	if err != nil {
		return withCode(exitUsage, err)
	}
	now := time.Now().UTC()
	b := &evidence.Batch{BatchID: batch, Playbook: pb.Ref(), Tool: toolRef(), StartedAt: now}
	b.Operator, _ = st.operator(ctx, needsAWS(reg, pb))
	for _, j := range jobs {
		j.req.RunID = runner.NewRunID(now)
		h := evidence.Header{CaseID: j.req.CaseID, RunID: j.req.RunID}
		if err := evidence.CheckOpen(ctx, store, h, signer); err != nil {
			return withCode(exitUsage, fmt.Errorf("batch %q, target %s: %w", batch, j.req.Label, err))
		}
		b.Cases = append(b.Cases, evidence.BatchCase{CaseID: j.req.CaseID, Target: j.req.Label, RunID: j.req.RunID})
	}
	if err := evidence.WriteBatch(ctx, store, b, signer); err != nil {
		return withCode(exitUsage, err)
	}
	return nil
}

// targetJobs resolves the inputs of every target, each with its own case
// id (targetCaseIDs); an input or case id that cannot be made stops them
// all, naming the line. A target's label is its value escaped, as every
// place that prints it (display, summary, batch record) needs it.
func targetJobs(reg *engine.Registry, pb *engine.Playbook, in *runInputs, sets []targetSet) ([]*job, error) {
	ids := targetCaseIDs(sets)
	var jobs []*job
	for i, set := range sets {
		inputs, err := in.resolveTarget(pb, set)
		if err != nil {
			return nil, err
		}
		if err := evidence.CheckCaseID(ids[i]); err != nil {
			return nil, usageErrorf("%s: target %q cannot name its case: %v", set.pos, printable(set.value), err)
		}
		jobs = append(jobs, &job{reg: reg, req: &session.Request{Playbook: pb, Inputs: inputs, Finding: in.forRun(),
			CaseID: ids[i], Label: printable(set.value)}})
	}
	return jobs, nil
}

// targetCaseIDs gives each target a distinct case id: its caseSegment,
// and for a repeat, the segment with the first "-N" that no target's
// segment and no earlier repeat holds (so "x", "x", "x-2" are x, x-3,
// x-2). Ids are compared without case, as a case-insensitive file system
// (macOS, Windows) would compare the folders.
func targetCaseIDs(sets []targetSet) []string {
	ids := make([]string, len(sets))
	first := map[string]int{}
	for i, s := range sets {
		ids[i] = caseSegment(s.value)
		if _, ok := first[strings.ToLower(ids[i])]; !ok {
			first[strings.ToLower(ids[i])] = i
		}
	}
	taken := map[string]bool{}
	for k := range first {
		taken[k] = true
	}
	for i, id := range ids {
		if first[strings.ToLower(id)] == i {
			continue
		}
		for n := 2; ; n++ {
			alt := fmt.Sprintf("%s-%d", id, n)
			if !taken[strings.ToLower(alt)] {
				taken[strings.ToLower(alt)], ids[i] = true, alt
				break
			}
		}
	}
	return ids
}

// targetLine is one target and where it is in its file.
type targetLine struct {
	value     string
	line, col int
}

// readTargets reads one target a line; blank lines and # comments are skipped.
func (st *cliState) readTargets(file string) ([]targetLine, error) {
	var r io.Reader = st.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, usageErrorf("--targets: %v", err)
		}
		defer f.Close()
		r = f
	}
	var lines []targetLine
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		value := strings.TrimSpace(raw)
		if value != "" && !strings.HasPrefix(value, "#") {
			lines = append(lines, targetLine{value: value, line: n, col: strings.Index(raw, value) + 1})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, usageErrorf("--targets %q: %v", file, err)
	}
	if len(lines) == 0 {
		return nil, usageErrorf("--targets %q holds no target: give one value a line", file)
	}
	return lines, nil
}

// caseSegment turns a target into a case id: one safe path segment.
func caseSegment(target string) string {
	b := []byte(target)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			b[i] = '_'
		}
	}
	s := strings.Trim(string(b), ".")
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		s = "target"
	}
	return s
}

// batchSummary prints one line per run and gives the exit code: 3 when any
// run was interrupted, 1 when any failed, else 0.
func (st *cliState) batchSummary(outs []*outcome) error {
	tw := tabwriter.NewWriter(st.stderr, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tRUN\tSTATUS\tMANIFEST\tERROR")
	code := exitOK
	for _, o := range outs {
		status, msg := o.status, ""
		if status == "" {
			status = "not started"
		}
		switch {
		case o.err != nil && o.status == "":
			msg = firstLine(o.err.Error()) // it never started
		case failedStep(o) != "":
			msg = failedStep(o)
		case o.err != nil:
			msg = firstLine(o.err.Error())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", printable(o.label), o.runID, status, o.manifestURI, clip(printable(msg), 120))
		switch c := exitCode(o.exitErr()); {
		case c == exitInterrupted:
			code = exitInterrupted
		case c != exitOK && code == exitOK:
			code = exitFailed
		}
	}
	tw.Flush()
	for _, o := range outs {
		if o.status == engine.RunInterrupted {
			st.logf("interrupted: continue %s with `firebreak resume %s`", o.label, o.runID)
		}
	}
	if code == exitOK {
		return nil
	}
	return silent{code: code}
}
