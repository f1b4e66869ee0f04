package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

// opened is a run whose case is open, on its way to the backend.
type opened struct {
	req    *Request
	job    *Job
	resume bool
	store  evidence.Store
	signer evidence.Signer
	hdr    evidence.Header
	cs     *evidence.Case
}

// launch records the run, opens its case, stores the finding and hands the
// run to the backend in its own goroutine.
func (m *Manager) launch(ctx context.Context, req *Request, resume bool) (*Run, error) {
	r := &Run{ID: req.RunID, CaseID: req.CaseID, Label: req.Label, Playbook: req.Playbook,
		feed: newFeed(), done: make(chan struct{})}
	if err := m.claim(r); err != nil {
		return nil, err
	}
	o, err := m.open(ctx, req, resume)
	if err != nil {
		if !resume {
			m.discard(ctx, req.RunID)
		}
		m.release(r)
		return nil, err
	}
	rctx, cancel := context.WithCancelCause(ctx)
	r.cancel = cancel
	go func() {
		defer close(r.done)
		defer cancel(nil)
		r.out = m.drive(rctx, r, o)
		m.release(r)
		r.feed.close()
	}()
	return r, nil
}

// claim makes r live, refusing a second run of one id in this Manager
// (the journal's lock refuses one in another process).
func (m *Manager) claim(r *Run) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live[r.ID]; ok {
		return fmt.Errorf("run %q is going on already; wait for it or cancel it first", r.ID)
	}
	if m.live == nil {
		m.live = map[string]*Run{}
	}
	m.live[r.ID] = r
	return nil
}

func (m *Manager) release(r *Run) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live[r.ID] == r {
		delete(m.live, r.ID)
	}
}

// open does everything before the first step: the store, the key, the
// backend's record, the case, the finding.
func (m *Manager) open(ctx context.Context, req *Request, resume bool) (*opened, error) {
	if req.Playbook == nil || m.Backend == nil {
		return nil, errors.New("session: a run needs a Request.Playbook and a Manager.Backend")
	}
	o := &opened{req: req, resume: resume, store: req.Store, signer: req.Signer}
	var err error
	if o.store == nil {
		open := m.Open.Store
		if open == nil {
			open = evidence.NewSchemes().OpenLocation
		}
		if o.store, err = open(ctx, req.Evidence); err != nil {
			return nil, err
		}
	}
	if o.signer == nil && req.SignKey != "" {
		load := m.Open.Signer
		if load == nil {
			load = func(path string) (evidence.Signer, error) { return evidence.LoadEd25519Signer(path) }
		}
		if o.signer, err = load(req.SignKey); err != nil {
			return nil, err
		}
	}
	o.hdr = evidence.Header{CaseID: req.CaseID, RunID: req.RunID, Playbook: req.Playbook.Ref(), Tool: m.Tool,
		Operator: req.Operator, Inputs: req.Inputs, StartedAt: req.StartedAt}
	// A case that is not this run's (another run's, or finished) is refused
	// before the run is recorded, so the refusal leaves nothing behind;
	// OpenCase checks again under the case's lock.
	if err := evidence.CheckOpen(ctx, o.store, o.hdr, o.signer); err != nil {
		return nil, fmt.Errorf("opening case %q in %s: %w", req.CaseID, m.location(o), err)
	}
	o.job = m.job(req)
	if err := m.Backend.Record(ctx, o.job); err != nil {
		return nil, err
	}
	if o.cs, err = evidence.OpenCase(ctx, o.store, o.hdr, o.signer); err != nil {
		return nil, fmt.Errorf("opening case %q in %s: %w", req.CaseID, m.location(o), err)
	}
	if req.Finding != nil && !resume {
		if err := req.Finding.put(ctx, o.cs, req.CaseID); err != nil {
			return nil, errors.Join(err, o.cs.Close())
		}
	}
	if !m.Backend.InProcess() {
		// The workers take the case in turn; the session takes it back to seal it.
		if err := o.cs.Close(); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (m *Manager) job(req *Request) *Job {
	j := &Job{RunID: req.RunID, CaseID: req.CaseID, Playbook: req.Playbook.Ref(), Inputs: req.Inputs,
		Operator: operatorName(req.Operator), Evidence: locationString(req.Evidence), SignKey: req.SignKey,
		Parallelism: req.Parallelism, Label: req.Label, StartedAt: req.StartedAt}
	if req.Finding != nil {
		j.Finding, j.Incident = req.Finding.Object, req.Finding.Incident
	}
	return j
}

// operatorName is who the runner says acts: the ARN, or for a run that
// touches no AWS account, the local user id.
func operatorName(op evidence.Operator) string {
	if op.ARN != "" {
		return op.ARN
	}
	return op.UserID
}

func (m *Manager) location(o *opened) string {
	if s := locationString(o.req.Evidence); s != "" {
		return s
	}
	return o.store.URI("")
}

// locationString is loc as ParseLocation reads it back; "" for none (a
// Request that gave its Store).
func locationString(loc evidence.Location) string {
	if loc == (evidence.Location{}) {
		return ""
	}
	return loc.String()
}

// discard forgets a new run that never started, when the backend can: a
// refused run leaves no record to list or resume. Failing to is not the
// run's error (the refusal is); Runs then shows it as never started.
func (m *Manager) discard(ctx context.Context, runID string) {
	if d, ok := m.Backend.(discarder); ok {
		if err := d.Discard(context.WithoutCancel(ctx), runID); err != nil && m.Logger != nil {
			m.Logger.Warn("could not remove the record of a run that never started", "run", runID, "error", err)
		}
	}
}

// drive runs the backend, then seals the case, whatever happened.
func (m *Manager) drive(ctx context.Context, r *Run, o *opened) *Outcome {
	defer o.cs.Close() // Finish closes it; this covers the paths that do not reach it
	h := Hooks{Approver: o.req.Approver, Logger: m.Logger, Observer: func(ev runner.StepEvent) {
		if o.req.Observer != nil {
			o.req.Observer(ev)
		}
		r.feed.publish(ev)
	}}
	if m.Backend.InProcess() {
		h.Case = o.cs
	}
	var res *runner.Result
	var err error
	if o.resume {
		res, err = m.Backend.Resume(ctx, o.job, o.req.Playbook, h)
	} else {
		res, err = m.Backend.Run(ctx, o.job, o.req.Playbook, h)
	}
	out := &Outcome{RunID: r.ID, CaseID: r.CaseID, Label: r.Label, Result: res, Err: err, Store: o.store, Evidence: o.req.Evidence,
		Status: runStatus(ctx, res, err)}
	if out.Status == "" {
		if !o.resume {
			m.discard(ctx, r.ID)
		}
		return out // the run never started: nothing ran, nothing to seal
	}
	m.seal(ctx, o, out)
	return out
}

// runStatus is the status to record: the backend's, or interrupted when it
// stopped without a result because of a cancel; empty when it never started.
func runStatus(ctx context.Context, res *runner.Result, err error) engine.RunStatus {
	switch {
	case res != nil:
		return res.Status
	case errors.Is(err, engine.ErrInterrupted) || ctx.Err() != nil:
		return engine.RunInterrupted
	}
	return ""
}

// seal writes the manifest, even after a cancel (under a context that
// keeps ctx's values but not its cancellation, bounded by FinishTimeout):
// an interrupted run's evidence must still be sealed and verifiable. A
// manifest that cannot be written makes a succeeded run failed: evidence
// that is not sealed is not a success.
func (m *Manager) seal(ctx context.Context, o *opened, out *Outcome) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.finishTimeout())
	defer cancel()
	man, err := m.finish(fctx, o, out)
	if err != nil {
		out.Err = errors.Join(out.Err, fmt.Errorf("writing the manifest of case %q: %w", out.CaseID, err))
		if out.Status == engine.RunSucceeded {
			out.Status = engine.RunFailed
		}
		return
	}
	out.Manifest = man
}

func (m *Manager) finish(ctx context.Context, o *opened, out *Outcome) (*evidence.Manifest, error) {
	cs := o.cs
	if !m.Backend.InProcess() {
		var err error
		if cs, err = evidence.OpenCase(ctx, o.store, o.hdr, o.signer); err != nil {
			return nil, err
		}
		defer cs.Close()
		if out.Result != nil {
			for _, s := range out.Result.Steps {
				cs.SetStep(s)
			}
		}
	}
	return cs.Finish(ctx, out.Status, m.now())
}
