package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// ready handles a step whose needs have all ended: skip it, fail it, ask
// for approval, or queue it to run.
func (r *run) ready(ctx context.Context, st *stepState) {
	b, _ := blockingNeed(st)
	st.needFailed = b.by != "" && !b.declined
	skip, err := r.decide(st)
	if skip != "" && b.by != "" {
		st.blocked = b
	}
	r.log.Debug("step ready", keyStep, st.step.ID, keyReason, skip)
	switch {
	case err != nil:
		r.end(ctx, st, engine.StatusFailed, err.Error(), "", nil)
	case skip != "":
		r.end(ctx, st, engine.StatusSkipped, "", skip, nil)
	case st.step.Approve != "" && !st.approved:
		r.askApproval(ctx, st)
	default:
		r.enqueue(ctx, st)
	}
}

// askApproval puts st in waiting and asks the approver on its own
// goroutine, so that the rest of the run goes on while a human thinks.
// With no approver the step stays waiting and the run ends interrupted.
func (r *run) askApproval(ctx context.Context, st *stepState) {
	st.rec.Status = engine.StatusWaiting
	u := unit{st: st, index: -1}
	r.record(ctx, change{u: u, status: engine.StatusWaiting, event: "step.waiting",
		detail: map[string]any{"question": st.step.Approve}})
	r.steps[st.step.ID] = engine.StepEnv{Status: string(engine.StatusWaiting)}
	if r.cfg.Approver == nil {
		r.waiting = append(r.waiting, st.step.ID)
		r.log.Warn("step waits for approval; resume the run with --yes or on a terminal", keyStep, st.step.ID)
		return
	}
	r.inflight++
	approver, q := r.cfg.Approver, st.step.Approve
	go func() {
		r.approveMu.Lock()
		ok, err := approver.Approve(ctx, st.step.ID, q)
		r.approveMu.Unlock()
		r.results <- msg{kind: msgApproval, u: u, approved: ok, err: err}
	}()
}

func (r *run) approval(ctx context.Context, m msg) {
	st := m.u.st
	switch {
	case m.err != nil && ctx.Err() != nil:
		r.waiting = append(r.waiting, st.step.ID) // interrupted while asking: ask again on resume
	case m.err != nil:
		r.end(ctx, st, engine.StatusFailed, fmt.Sprintf("asking for approval: %v", m.err), "", nil)
	case !m.approved:
		st.declined = true
		r.event(ctx, "step.declined", st.step.ID, map[string]any{"question": st.step.Approve, "operator": r.cfg.Operator})
		r.end(ctx, st, engine.StatusSkipped, "", "approval declined", nil)
	case r.halted(ctx):
		r.waiting = append(r.waiting, st.step.ID)
	default:
		st.approved = true
		r.event(ctx, "step.approved", st.step.ID, map[string]any{"question": st.step.Approve, "operator": r.cfg.Operator})
		r.enqueue(ctx, st)
	}
}

// enqueue queues a step to run. A for_each step evaluates its list here;
// its items that succeeded before a Resume (same value at the same index)
// are kept and not run again.
func (r *run) enqueue(ctx context.Context, st *stepState) {
	if st.step.ForEach == nil {
		r.push(st)
		return
	}
	v, err := st.step.ForEach.Eval(r.env(st.needFailed, nil, 0))
	if err != nil {
		r.end(ctx, st, engine.StatusFailed, err.Error(), "", nil)
		return
	}
	list, _ := v.([]any) // Eval coerced it to a list
	if len(list) > maxItems {
		r.end(ctx, st, engine.StatusFailed, fmt.Sprintf("for_each %q gave %d items, more than %d; split the list", st.step.ForEach.Source, len(list), maxItems), "", nil)
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
	n, now := len(list), r.cfg.now()
	st.rec.Status, st.rec.StartedAt = engine.StatusRunning, &now
	r.record(ctx, change{u: unit{st: st, index: -1}, status: engine.StatusRunning, count: &n,
		event: "step.started", detail: map[string]any{"items": n}})
	if st.itemsLeft == 0 {
		r.endForEach(ctx, st)
		return
	}
	r.push(st)
}

func (r *run) push(st *stepState) {
	if !st.queued {
		st.queued = true
		r.queue = append(r.queue, st)
	}
}

// end gives a step its final status and makes ready those of its
// dependents whose needs have now all ended.
func (r *run) end(ctx context.Context, st *stepState, status engine.StepStatus, errText, reason string, out engine.Outputs) {
	now := r.cfg.now()
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
	if !r.record(ctx, c) {
		// Outputs the journal cannot hold could not be resumed from.
		r.end(ctx, st, engine.StatusFailed, fmt.Sprintf("action %q returned outputs that are not JSON: fix the action", st.step.Action), "", nil)
		return
	}
	r.logEnd(unit{st: st, index: -1}, rec, took)
	r.steps[st.step.ID] = engine.StepEnv{Outputs: out, Status: string(status)}
	for _, d := range st.dependents {
		d.pending--
		if d.pending == 0 && !r.halted(ctx) {
			r.ready(ctx, d)
		}
	}
}

// endForEach ends a for_each step whose items have all ended: failed if any
// item failed, with the items' outputs in item order.
func (r *run) endForEach(ctx context.Context, st *stepState) {
	failed := 0
	for _, it := range st.rec.Items {
		if it.Status == engine.StatusFailed {
			failed++
		}
	}
	out := itemsOutputs(st.rec.Items)
	if failed > 0 {
		r.end(ctx, st, engine.StatusFailed, fmt.Sprintf("%d of %d items failed", failed, len(st.items)), "", out)
		return
	}
	r.end(ctx, st, engine.StatusSucceeded, "", "", out)
}
