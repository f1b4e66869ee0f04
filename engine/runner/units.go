package runner

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// startUnit evaluates a unit's params and marks it running; a param error
// fails it at once, without a retry.
func (r *run) startUnit(ctx context.Context, u unit, batch []launch) []launch {
	st := u.st
	var itemV any
	if u.index >= 0 {
		itemV = st.items[u.index].value
	}
	params, err := evalParams(st.step.ID, st.spec, st.step.With, r.env(st.needFailed, itemV, max(u.index, 0)))
	if err != nil {
		r.unitEnded(ctx, u, msg{u: u, err: err})
		return batch
	}
	now := r.cfg.now()
	rec := unitRecord(u)
	rec.Status, rec.Attempts, rec.StartedAt = engine.StatusRunning, 1, &now
	r.record(ctx, change{u: u, status: engine.StatusRunning, attempt: 1, event: "step.started", detail: itemDetail(u, nil)})
	attrs := []any{keyStep, st.step.ID, keyAction, st.step.Action}
	if u.index >= 0 {
		attrs = append(attrs, keyItem, u.index)
		st.itemsRunning++
	}
	log := r.log.With(attrs...)
	log.Info("step started")
	if log.Enabled(ctx, slog.LevelDebug) { // loggable copies the params: only when wanted
		log.Debug("step params", keyParams, loggable(st.spec, params))
	}
	r.running++
	r.inflight++
	in := engine.StepInput{RunID: r.cfg.RunID, CaseID: r.cfg.CaseID, StepID: st.step.ID, Params: params, Log: log,
		Evidence: r.evidence(st.step.ID), Operator: r.cfg.Operator, ForEach: u.index >= 0, ItemIndex: max(u.index, 0),
		PlaybookDir: playbookDir(r.cfg.Playbook), SecretEnv: r.secrets}
	if r.jr != nil {
		in.RunLogPath = r.jr.path
	}
	return append(batch, launch{u: u, in: in})
}

func (r *run) evidence(step string) engine.Evidence {
	if r.cfg.Case == nil {
		return nopEvidence{}
	}
	return r.cfg.Case.Evidence(step)
}

// abandon takes back units whose start is, or may not be, on record but
// which must not start after all: the journal failed, or the run was
// interrupted meanwhile. They run again on resume.
func (r *run) abandon(ctx context.Context, batch []launch) {
	for _, l := range batch {
		r.running--
		r.inflight--
		if l.u.index >= 0 {
			l.u.st.itemsRunning--
		}
		rec := unitRecord(l.u)
		rec.Status = engine.StatusCancelled
		if l.u.index < 0 {
			r.steps[l.u.st.step.ID] = engine.StepEnv{Status: string(engine.StatusCancelled)}
		}
		r.record(ctx, change{u: l.u, status: engine.StatusCancelled, attempt: rec.Attempts, event: "step.cancelled"})
	}
}

// unitEnded records the end of a unit. An error while the run is being
// interrupted is a cancellation (the unit runs again on resume), not a
// failure.
func (r *run) unitEnded(ctx context.Context, u unit, m msg) {
	status := engine.StatusSucceeded
	switch {
	case m.err != nil && ctx.Err() != nil:
		status = engine.StatusCancelled
	case m.err != nil:
		status = engine.StatusFailed
	}
	if m.attempt > 0 {
		unitRecord(u).Attempts = m.attempt
	}
	if u.index < 0 {
		if status == engine.StatusCancelled {
			r.cancelled(ctx, u, m.err)
			return
		}
		r.end(ctx, u.st, status, errorText(m.err), "", m.out)
		return
	}
	r.itemEnded(ctx, u, status, m)
}

// itemEnded records the end of one for_each item; the step ends with its
// last item. A cancelled item leaves the step unfinished (resumable).
func (r *run) itemEnded(ctx context.Context, u unit, status engine.StepStatus, m msg) {
	st, rec, now := u.st, unitRecord(u), r.cfg.now()
	rec.Status, rec.Error, rec.FinishedAt = status, errorText(m.err), &now
	if status == engine.StatusSucceeded {
		rec.Outputs = m.out
	}
	var took time.Duration
	if rec.StartedAt != nil {
		took = now.Sub(*rec.StartedAt)
	}
	c := change{u: u, status: status, attempt: rec.Attempts, err: rec.Error, outputs: rec.Outputs, took: took,
		event: "step." + string(status), detail: itemDetail(u, errDetail(rec.Error))}
	if !r.record(ctx, c) {
		rec.Status, rec.Outputs = engine.StatusFailed, nil
		rec.Error = fmt.Sprintf("action %q returned outputs that are not JSON: fix the action", st.step.Action)
		c.status, c.outputs, c.err, c.event = rec.Status, nil, rec.Error, "step.failed"
		r.record(ctx, c)
	}
	r.logEnd(u, rec, took)
	if rec.Status == engine.StatusCancelled {
		return
	}
	st.itemsLeft--
	if st.itemsLeft == 0 {
		r.endForEach(ctx, st)
	}
}

// cancelled records a step stopped by an interruption; it is not final, so
// its dependents stay pending and it runs again on resume.
func (r *run) cancelled(ctx context.Context, u unit, err error) {
	rec := unitRecord(u)
	rec.Status, rec.Error = engine.StatusCancelled, errorText(err)
	if u.index < 0 { // finally steps see it
		r.steps[u.st.step.ID] = engine.StepEnv{Status: string(engine.StatusCancelled)}
	}
	r.record(ctx, change{u: u, status: engine.StatusCancelled, attempt: rec.Attempts, err: rec.Error, event: "step.cancelled"})
	r.log.Info("step cancelled", keyStep, u.st.step.ID, keyAction, u.st.step.Action, keyError, err)
}

// playbookDir is the absolute directory of pb's file, or "" for a
// built-in playbook (or none).
func playbookDir(pb *engine.Playbook) string {
	if pb == nil || pb.Source == "" || strings.HasPrefix(pb.Source, "builtin:") {
		return ""
	}
	dir, err := filepath.Abs(filepath.Dir(pb.Source))
	if err != nil {
		return filepath.Dir(pb.Source)
	}
	return dir
}
