package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// launch is a unit about to start, with its input.
type launch struct {
	u  unit
	in engine.StepInput
}

// schedule is the coordinator loop over one block of steps (main, then
// finally). It starts units while slots are free, records their start in
// the journal, starts them only once that is durable, and handles what the
// workers report. While one journal sync is in flight, results and new
// starts gather for the next one (group commit), so a wide run pays far
// less than one fsync per step. When ctx is done it starts nothing more and
// waits for the running units; it returns when nothing runs, nothing waits
// for the journal and nothing can start.
func (r *run) schedule(ctx context.Context, block []*stepState) {
	r.begin(ctx, block)
	done := ctx.Done()
	var syncDone <-chan error
	var awaiting, next []launch // covered by the sync in flight; by the next one
	for {
		next = append(next, r.startable(ctx)...)
		switch {
		case r.fatal != nil || r.stopping:
			r.abandon(ctx, next)
			next = nil
		case r.jr == nil:
			r.launch(ctx, next)
			next = nil
		case !r.jr.syncing && len(r.jr.buf) > 0:
			r.jr.startSync()
			syncDone, awaiting, next = r.jr.done, next, nil
		}
		if r.inflight == 0 && (r.stopping || len(r.queue) == 0) && (r.jr == nil || !r.jr.syncing) {
			return
		}
		select {
		case err := <-syncDone:
			r.jr.syncing, syncDone = false, nil
			if err != nil && r.fatal == nil {
				r.fatal, r.stopping = err, true
				r.log.Error("journal not written; stopping the run", keyError, err)
			}
			if r.fatal != nil || r.stopping { // interrupted while the sync ran: start nothing
				r.abandon(ctx, append(awaiting, next...))
				awaiting, next = nil, nil
				continue
			}
			r.launch(ctx, awaiting)
			awaiting = nil
		case m := <-r.results:
			r.handle(ctx, m)
			for drained := false; !drained; { // take what else is there, for one journal sync
				select {
				case m := <-r.results:
					r.handle(ctx, m)
				default:
					drained = true
				}
			}
		case <-done:
			done = nil
			r.stopping, r.interrupted = true, true
			r.log.Warn("run interrupted: starting nothing more, waiting for running steps", keyRunning, r.running)
		}
	}
}

// launch starts the workers of units whose start is on record.
func (r *run) launch(ctx context.Context, batch []launch) {
	for _, l := range batch {
		go r.work(ctx, l.u, l.in)
	}
}

// begin counts each step's pending needs and makes ready the steps that
// have none. Steps kept from before a Resume have already ended.
func (r *run) begin(ctx context.Context, block []*stepState) {
	for _, st := range block {
		st.pending = 0
		for _, n := range st.needs {
			if !n.ended() {
				st.pending++
			}
		}
	}
	for _, st := range block {
		if !st.ended() && st.pending == 0 && !r.stopping {
			r.ready(ctx, st)
		}
	}
}

// startable takes units off the queue while parallelism allows, in the
// order their steps became ready, marks them running and returns them.
// A for_each step at its own concurrency bound leaves the queue until one
// of its items ends.
func (r *run) startable(ctx context.Context) []launch {
	var batch []launch
	for len(r.queue) > 0 && !r.stopping && (r.limit == 0 || r.running < r.limit) {
		st := r.queue[0]
		if st.step.ForEach == nil || st.ended() {
			r.pop()
			if !st.ended() {
				batch = r.startUnit(ctx, unit{st: st, index: -1}, batch)
			}
			continue
		}
		for st.next < len(st.items) && st.items[st.next].kept {
			st.next++
		}
		if st.next >= len(st.items) || (st.step.Concurrency > 0 && st.itemsRunning >= st.step.Concurrency) {
			r.pop()
			continue
		}
		st.next++
		batch = r.startUnit(ctx, unit{st: st, index: st.next - 1}, batch)
	}
	if len(batch) > 0 {
		r.log.Debug("starting", keyReady, len(r.queue), keyRunning, r.running)
	}
	return batch
}

func (r *run) pop() {
	r.queue[0].queued = false
	r.queue[0] = nil
	r.queue = r.queue[1:]
}

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
	if log.Enabled(ctx, -4) {
		log.Debug("step params", keyParams, loggable(st.spec, params))
	}
	r.running++
	r.inflight++
	in := engine.StepInput{RunID: r.cfg.RunID, CaseID: r.cfg.CaseID, StepID: st.step.ID, Params: params, Log: log,
		Evidence: r.evidence(st.step.ID), Operator: r.cfg.Operator, ForEach: u.index >= 0, ItemIndex: max(u.index, 0)}
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

// handle applies one worker report.
func (r *run) handle(ctx context.Context, m msg) {
	switch m.kind {
	case msgApproval:
		r.inflight--
		r.approval(ctx, m)
	case msgRetry:
		rec := unitRecord(m.u)
		rec.Attempts = m.attempt
		r.record(ctx, change{u: m.u, status: engine.StatusRunning, attempt: m.attempt, err: errorText(m.err),
			retryIn: m.wait, event: "step.retry", detail: itemDetail(m.u, map[string]any{"error": m.err.Error(), "attempt": m.attempt})})
		r.log.Warn("step attempt failed; retrying", keyStep, m.u.st.step.ID, keyAttempt, m.attempt-1, keyWait, m.wait, keyError, m.err)
	case msgDone:
		r.running--
		r.inflight--
		if m.u.index >= 0 {
			m.u.st.itemsRunning--
			r.push(m.u.st) // it may have been waiting on its own bound
		}
		r.unitEnded(ctx, m.u, m)
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
