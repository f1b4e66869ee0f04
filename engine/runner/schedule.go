package runner

import (
	"context"

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
		case r.fatal != nil || r.halted(ctx):
			r.abandon(ctx, next)
			next = nil
		case r.jr == nil:
			r.launch(ctx, next)
			next = nil
		case !r.jr.syncing && (len(r.jr.buf) > 0 || len(next) > 0):
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
			if r.fatal != nil || r.halted(ctx) { // interrupted while the sync ran: start nothing
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
			r.halted(ctx)
		}
	}
}

// halted reports whether the run must start nothing more, noticing an
// interruption as soon as ctx is done: a worker's report and the
// cancellation may arrive together, and nothing may start in between.
func (r *run) halted(ctx context.Context) bool {
	if !r.stopping && ctx.Err() != nil {
		r.stopping, r.interrupted = true, true
		r.log.Warn("run interrupted: starting nothing more, waiting for running steps", keyRunning, r.running)
	}
	return r.stopping
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
		if !st.ended() && st.pending == 0 && !r.halted(ctx) {
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
	for len(r.queue) > 0 && !r.halted(ctx) && (r.limit == 0 || r.running < r.limit) {
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
