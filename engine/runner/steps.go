package runner

import (
	"errors"
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// ready handles a step whose needs have all ended: skip it, fail it, ask
// for approval, or queue it to run.
func (m *machine) ready(st *stepState) {
	b, _ := blockingNeed(st)
	st.needFailed = b.by != "" && !b.declined
	skip, err := m.decide(st)
	if skip != "" && b.by != "" {
		st.blocked = b
	}
	m.log.Debug("step ready", keyStep, st.step.ID, keyReason, skip)
	switch {
	case errors.Is(err, engine.ErrExprStopped):
		// interrupted while its condition was evaluated: it stays pending,
		// decided again on resume
	case err != nil:
		m.end(st, engine.StatusFailed, err.Error(), "", nil)
	case skip != "":
		m.end(st, engine.StatusSkipped, "", skip, nil)
	case st.step.Approve != "" && !st.approved:
		m.askApproval(st)
	default:
		m.enqueue(st)
	}
}

// askApproval puts st in waiting and has the driver ask, so that the rest
// of the run goes on while a human thinks. With no one to ask the step
// stays waiting and the run ends interrupted.
func (m *machine) askApproval(st *stepState) {
	st.rec.Status = engine.StatusWaiting
	u := unit{st: st, index: -1}
	m.record(change{u: u, status: engine.StatusWaiting, event: "step.waiting",
		detail: map[string]any{"question": st.step.Approve}})
	m.steps[st.step.ID] = engine.StepEnv{Status: string(engine.StatusWaiting)}
	if !m.drv.Ask(st.step.ID, st.step.Approve) {
		m.waiting = append(m.waiting, st.step.ID)
		m.log.Warn("step waits for approval; resume the run with --yes or on a terminal", keyStep, st.step.ID)
		return
	}
	m.inflight++
}

// approval applies the answer to st's question: yes, no, or err when
// none could be had (an interrupted run asks again on resume).
func (m *machine) approval(u unit, approved bool, err error) {
	st := u.st
	switch {
	case err != nil && m.drv.Stopped():
		m.waiting = append(m.waiting, st.step.ID) // interrupted while asking: ask again on resume
	case err != nil:
		m.end(st, engine.StatusFailed, fmt.Sprintf("asking for approval: %v", err), "", nil)
	case !approved:
		st.declined = true
		m.drv.Event("step.declined", st.step.ID, map[string]any{"question": st.step.Approve, "operator": m.operator})
		m.end(st, engine.StatusSkipped, "", "approval declined", nil)
	case m.halted():
		m.waiting = append(m.waiting, st.step.ID)
	default:
		st.approved = true
		m.drv.Event("step.approved", st.step.ID, map[string]any{"question": st.step.Approve, "operator": m.operator})
		m.enqueue(st)
	}
}

// enqueue queues a step to run. A for_each step evaluates its list here;
// its items that succeeded before a Resume (same value at the same index)
// are kept and not run again.
func (m *machine) enqueue(st *stepState) {
	if st.step.ForEach == nil {
		m.push(st)
		return
	}
	v, err := st.step.ForEach.Eval(m.env(st.needFailed, nil, 0))
	if errors.Is(err, engine.ErrExprStopped) {
		return // interrupted while its list was evaluated: pending, as if not reached
	}
	if err != nil {
		m.end(st, engine.StatusFailed, err.Error(), "", nil)
		return
	}
	list, _ := v.([]any) // Eval coerced it to a list
	if len(list) > maxItems {
		m.end(st, engine.StatusFailed, fmt.Sprintf("for_each %q gave %d items, more than %d; split the list", st.step.ForEach.Source, len(list), maxItems), "", nil)
		return
	}
	st.items = make([]item, len(list))
	st.rec.Items = make([]engine.StepRecord, len(list))
	st.itemsLeft = 0
	for i, x := range list {
		it := item{value: x, key: itemKey(x)}
		st.rec.Items[i] = engine.StepRecord{ID: st.step.ID, Action: st.step.Action, Status: engine.StatusPending}
		if p := st.prior; p != nil && i < len(p.Items) && i < len(st.priorKey) &&
			p.Items[i].Status == engine.StatusSucceeded && st.priorKey[i] == it.key {
			it.kept, st.rec.Items[i] = true, p.Items[i]
		} else {
			st.itemsLeft++
		}
		st.items[i] = it
	}
	n, now := len(list), m.drv.Now()
	st.rec.Status, st.rec.StartedAt = engine.StatusRunning, &now
	m.record(change{u: unit{st: st, index: -1}, status: engine.StatusRunning, count: &n,
		event: "step.started", detail: map[string]any{"items": n}})
	if st.itemsLeft == 0 {
		m.endForEach(st)
		return
	}
	m.push(st)
}

func (m *machine) push(st *stepState) {
	if !st.queued {
		st.queued = true
		m.queue = append(m.queue, st)
	}
}

// end gives a step its final status and makes ready those of its
// dependents whose needs have now all ended.
func (m *machine) end(st *stepState, status engine.StepStatus, errText, reason string, out engine.Outputs) {
	now := m.drv.Now()
	rec := &st.rec
	rec.Status, rec.Error, rec.SkipReason, rec.Outputs, rec.FinishedAt = status, errText, reason, out, &now
	var took time.Duration
	if rec.StartedAt != nil {
		took = now.Sub(*rec.StartedAt)
	}
	c := change{u: unit{st: st, index: -1}, status: status, attempt: rec.Attempts, err: errText, reason: reason,
		outputs: out, took: took, event: "step." + string(status), detail: errDetail(errText)}
	if reason != "" {
		c.detail = map[string]any{"reason": reason}
	}
	if !m.record(c) {
		// Outputs the journal cannot hold could not be resumed from.
		m.end(st, engine.StatusFailed, fmt.Sprintf("action %q returned outputs that are not JSON: fix the action", st.step.Action), "", nil)
		return
	}
	m.logEnd(unit{st: st, index: -1}, rec, took)
	m.steps[st.step.ID] = engine.StepEnv{Outputs: out, Status: string(status)}
	for _, d := range st.dependents {
		d.pending--
		if d.pending == 0 && !m.halted() {
			m.ready(d)
		}
	}
}

// endForEach ends a for_each step whose items have all ended: failed if any
// item failed, with the items' outputs in item order.
func (m *machine) endForEach(st *stepState) {
	failed := 0
	for _, it := range st.rec.Items {
		if it.Status == engine.StatusFailed {
			failed++
		}
	}
	out := itemsOutputs(st.rec.Items)
	if err := m.checkOutputs(out, "the items' outputs together"); err != nil {
		m.end(st, engine.StatusFailed, err.Error(), "", nil)
		return
	}
	if failed > 0 {
		m.end(st, engine.StatusFailed, fmt.Sprintf("%d of %d items failed", failed, len(st.items)), "", out)
		return
	}
	m.end(st, engine.StatusSucceeded, "", "", out)
}
