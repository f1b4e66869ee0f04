package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// startUnit evaluates a unit's params and marks it running; a param error
// fails it at once, without a retry.
func (m *machine) startUnit(u unit, batch []Launch) []Launch {
	st := u.st
	var itemV any
	if u.index >= 0 {
		itemV = st.items[u.index].value
	}
	params, err := evalParams(st.step.ID, st.spec, st.step.With, m.env(st.needFailed, itemV, max(u.index, 0)))
	if err != nil {
		m.unitEnded(u, 0, nil, err)
		return batch
	}
	now := m.drv.Now()
	rec := unitRecord(u)
	rec.Status, rec.Attempts, rec.StartedAt = engine.StatusRunning, 1, &now
	m.record(change{u: u, status: engine.StatusRunning, attempt: 1, event: "step.started", detail: itemDetail(u, nil)})
	attrs := []any{keyStep, st.step.ID, keyAction, st.step.Action}
	if u.index >= 0 {
		attrs = append(attrs, keyItem, u.index)
		st.itemsRunning++
	}
	log := m.log.With(attrs...)
	log.Info("step started")
	if log.Enabled(context.Background(), slog.LevelDebug) { // loggable copies the params: only when wanted
		log.Debug("step params", keyParams, loggable(st.spec, params))
	}
	m.running++
	m.inflight++
	in := engine.StepInput{RunID: m.runID, CaseID: m.caseID, StepID: st.step.ID, Params: params, Log: log,
		Operator: m.operator, ForEach: u.index >= 0, ItemIndex: max(u.index, 0),
		PlaybookDir: playbookDir(m.pb), SecretEnv: m.secrets}
	return append(batch, Launch{u: u, Input: in})
}

// abandon takes back units whose start is, or may not be, on record but
// which must not start after all: the journal failed, or the run was
// interrupted meanwhile. They run again on resume.
func (m *machine) abandon(batch []Launch) {
	for _, l := range batch {
		m.running--
		m.inflight--
		if l.u.index >= 0 {
			l.u.st.itemsRunning--
		}
		rec := unitRecord(l.u)
		rec.Status = engine.StatusCancelled
		if l.u.index < 0 {
			m.steps[l.u.st.step.ID] = engine.StepEnv{Status: string(engine.StatusCancelled)}
		}
		m.record(change{u: l.u, status: engine.StatusCancelled, attempt: rec.Attempts, event: "step.cancelled", detail: itemDetail(l.u, nil)})
	}
}

// unitEnded records the end of a unit. An error while the run is being
// interrupted is a cancellation (the unit runs again on resume), not a
// failure.
func (m *machine) unitEnded(u unit, attempt int, out engine.Outputs, err error) {
	if err == nil {
		if err = m.checkOutputs(out, "its outputs"); err != nil {
			out = nil
		}
	}
	status := engine.StatusSucceeded
	switch {
	case err != nil && m.drv.Stopped():
		status = engine.StatusCancelled
	case err != nil:
		status = engine.StatusFailed
	}
	if attempt > 0 {
		unitRecord(u).Attempts = attempt
	}
	if u.index < 0 {
		if status == engine.StatusCancelled {
			m.cancelled(u, err)
			return
		}
		m.end(u.st, status, ErrorText(err), "", out)
		return
	}
	m.itemEnded(u, status, out, err)
}

// itemEnded records the end of one for_each item; the step ends with its
// last item. A cancelled item leaves the step unfinished (resumable).
func (m *machine) itemEnded(u unit, status engine.StepStatus, out engine.Outputs, err error) {
	st, rec, now := u.st, unitRecord(u), m.drv.Now()
	rec.Status, rec.Error, rec.FinishedAt = status, ErrorText(err), &now
	if status == engine.StatusSucceeded {
		rec.Outputs = out
	}
	var took time.Duration
	if rec.StartedAt != nil {
		took = now.Sub(*rec.StartedAt)
	}
	c := change{u: u, status: status, attempt: rec.Attempts, err: rec.Error, outputs: rec.Outputs, took: took,
		event: "step." + string(status), detail: itemDetail(u, errDetail(rec.Error))}
	if !m.record(c) {
		rec.Status, rec.Outputs = engine.StatusFailed, nil
		rec.Error = fmt.Sprintf("action %q returned outputs that are not JSON: fix the action", st.step.Action)
		c.status, c.outputs, c.err, c.event = rec.Status, nil, rec.Error, "step.failed"
		m.record(c)
	}
	m.logEnd(u, rec, took)
	if rec.Status == engine.StatusCancelled {
		return
	}
	st.itemsLeft--
	if st.itemsLeft == 0 {
		m.endForEach(st)
	}
}

// cancelled records a step stopped by an interruption; it is not final, so
// its dependents stay pending and it runs again on resume.
func (m *machine) cancelled(u unit, err error) {
	rec := unitRecord(u)
	rec.Status, rec.Error = engine.StatusCancelled, ErrorText(err)
	if u.index < 0 { // finally steps see it
		m.steps[u.st.step.ID] = engine.StepEnv{Status: string(engine.StatusCancelled)}
	}
	m.record(change{u: u, status: engine.StatusCancelled, attempt: rec.Attempts, err: rec.Error, event: "step.cancelled",
		detail: itemDetail(u, errDetail(rec.Error))})
	m.log.Info("step cancelled", keyStep, u.st.step.ID, keyAction, u.st.step.Action, keyError, err)
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

// Outputs are written whole into a journal line (which resume reads back)
// and into the manifest (which verify reads back, at most 256 MiB), so
// they are bounded: a step's (or one for_each item's, or a for_each
// step's items together) and the run's all together. Past a bound the
// step fails saying so: an action with that much to say stores it as an
// artifact.
const (
	MaxOutputsBytes    = 4 << 20
	MaxRunOutputsBytes = 64 << 20
)

// checkOutputs charges out's size to the run and refuses it past a bound.
func (m *machine) checkOutputs(out engine.Outputs, what string) error {
	if len(out) == 0 {
		return nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil // Record refuses it, saying it is not JSON
	}
	switch {
	case len(b) > MaxOutputsBytes:
		return fmt.Errorf("%s are %d bytes as JSON, more than %d: the journal and the manifest could not hold them (an action stores that much as an artifact)", what, len(b), MaxOutputsBytes)
	case len(b) > MaxRunOutputsBytes-m.outputBytes:
		return fmt.Errorf("%s (%d bytes) would take the run's outputs past %d bytes, more than the manifest can hold", what, len(b), MaxRunOutputsBytes)
	}
	m.outputBytes += len(b)
	return nil
}
