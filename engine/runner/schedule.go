package runner

import (
	"context"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// schedule is the coordinator loop over one block of steps (main, then
// finally). It starts units while slots are free, records their start in
// the journal, starts them only once that is durable, and handles what the
// workers report. While one journal sync is in flight, results and new
// starts gather for the next one (group commit), so a wide run pays far
// less than one fsync per step. When ctx is done it starts nothing more and
// waits for the running units; it returns when nothing runs, nothing waits
// for the journal and nothing can start.
func (r *run) schedule(ctx context.Context) {
	done := ctx.Done()
	var syncDone <-chan error
	var awaiting, next []Launch // covered by the sync in flight; by the next one
	for {
		next = append(next, r.startable()...)
		switch {
		case r.fatal != nil || r.halted():
			r.abandon(next)
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
			if r.fatal != nil || r.halted() { // interrupted while the sync ran: start nothing
				r.abandon(append(awaiting, next...))
				awaiting, next = nil, nil
				continue
			}
			r.launch(ctx, awaiting)
			awaiting = nil
		case m := <-r.results:
			r.handle(m)
			for drained := false; !drained; { // take what else is there, for one journal sync
				select {
				case m := <-r.results:
					r.handle(m)
				default:
					drained = true
				}
			}
		case <-done:
			done = nil
			r.halted()
		}
	}
}

// launch starts the workers of units whose start is on record.
func (r *run) launch(ctx context.Context, batch []Launch) {
	for _, l := range batch {
		l.Input.Evidence = r.evidence(l.u.st.step.ID)
		if r.jr != nil {
			l.Input.RunLogPath = r.jr.path
		}
		go r.work(ctx, l.u, l.Input)
	}
}

// begin counts each step's pending needs and makes ready the steps that
// have none. Steps kept from before a Resume have already ended.
func (m *machine) begin(block []*stepState) {
	for _, st := range block {
		st.pending = 0
		for _, n := range st.needs {
			if !n.ended() {
				st.pending++
			}
		}
	}
	for _, st := range block {
		if !st.ended() && st.pending == 0 && !m.halted() {
			m.ready(st)
		}
	}
}

// startable takes units off the queue while parallelism allows, in the
// order their steps became ready, marks them running and returns them.
// A for_each step at its own concurrency bound leaves the queue until one
// of its items ends.
func (m *machine) startable() []Launch {
	var batch []Launch
	for len(m.queue) > 0 && !m.halted() && (m.limit == 0 || m.running < m.limit) {
		st := m.queue[0]
		if st.step.ForEach == nil || st.ended() {
			m.pop()
			if !st.ended() {
				batch = m.startUnit(unit{st: st, index: -1}, batch)
			}
			continue
		}
		for st.next < len(st.items) && st.items[st.next].kept {
			st.next++
		}
		if st.next >= len(st.items) || (st.step.Concurrency > 0 && st.itemsRunning >= st.step.Concurrency) {
			m.pop()
			continue
		}
		st.next++
		batch = m.startUnit(unit{st: st, index: st.next - 1}, batch)
	}
	if len(batch) > 0 {
		m.log.Debug("starting", keyReady, len(m.queue), keyRunning, m.running)
	}
	return batch
}

func (m *machine) pop() {
	m.queue[0].queued = false
	m.queue[0] = nil
	m.queue = m.queue[1:]
}

// handle applies one worker report.
func (r *run) handle(m msg) {
	switch m.kind {
	case msgApproval:
		r.inflight--
		r.approval(m.u, m.approved, m.err)
	case msgRetry:
		r.retrying(m.u, m.attempt, m.err, m.wait)
	case msgDone:
		r.finished(m.u, m.attempt, m.out, m.err)
	}
}

// retrying records that attempt-1 of u failed with err and attempt starts
// after wait.
func (m *machine) retrying(u unit, attempt int, err error, wait time.Duration) {
	rec := unitRecord(u)
	rec.Attempts = attempt
	m.record(change{u: u, status: engine.StatusRunning, attempt: attempt, err: ErrorText(err),
		retryIn: wait, event: "step.retry", detail: itemDetail(u, map[string]any{"error": err.Error(), "attempt": attempt})})
	m.log.Warn("step attempt failed; retrying", keyStep, u.st.step.ID, keyAttempt, attempt-1, keyWait, wait, keyError, err)
}

// finished records the end of u (out, or err) and frees its slot.
func (m *machine) finished(u unit, attempt int, out engine.Outputs, err error) {
	m.running--
	m.inflight--
	if u.index >= 0 {
		u.st.itemsRunning--
		m.push(u.st) // it may have been waiting on its own bound
	}
	m.unitEnded(u, attempt, out, err)
}
