package runner

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// execute runs the main steps, then the finally steps, then records the end.
//
// Finally steps run after every main step has ended, whatever happened,
// and also after an interruption: they then run under a context that keeps
// ctx's values but not its cancellation, each bounded by its own timeout
// (a second Ctrl-C is the CLI's to handle, by exiting). They do not run
// when the journal could not be written.
func (r *run) execute(ctx context.Context) (*Result, error) {
	r.ctx = ctx
	r.restore()
	r.begin(r.main)
	r.schedule(ctx)
	if r.fatal == nil && len(r.fin) > 0 {
		fctx := ctx
		if ctx.Err() != nil {
			fctx = context.WithoutCancel(ctx)
		}
		r.ctx = fctx
		r.beginFinally()
		r.schedule(fctx)
	}
	return r.finish()
}

// restore keeps the main steps that succeeded before a Resume: they are
// not run again, and their outputs are what later steps see.
func (m *machine) restore() {
	for _, st := range m.main {
		if st.prior == nil || st.prior.Status != engine.StatusSucceeded {
			continue
		}
		st.rec = *st.prior
		st.rec.Items = slices.Clone(st.rec.Items)
		m.steps[st.step.ID] = engine.StepEnv{Outputs: st.rec.Outputs, Status: string(engine.StatusSucceeded)}
		var took time.Duration // as long as it ran before, not 0
		if st.rec.StartedAt != nil && st.rec.FinishedAt != nil {
			took = st.rec.FinishedAt.Sub(*st.rec.StartedAt)
		}
		c := m.export(change{u: unit{st: st, index: -1}, status: engine.StatusSucceeded, attempt: st.rec.Attempts, took: took})
		c.Kept = true
		m.drv.Record(c)
		m.log.Debug("step kept from before the resume", keyStep, st.step.ID)
	}
}

// finish records the run's end in the journal and builds the Result.
func (r *run) finish() (*Result, error) {
	res := r.result()
	if r.jr != nil {
		_ = r.jr.add(&entry{Kind: kindEnd, Time: res.FinishedAt, Status: string(res.Status)})
		if err := r.jr.close(); err != nil && r.fatal == nil {
			r.fatal, res.Status = err, engine.RunInterrupted
		}
		res.JournalPath = r.jr.path
	}
	r.log.Info("run ended", keyStatus, string(res.Status), keyDuration, res.FinishedAt.Sub(r.startedAt))
	return res, r.err(res.Status)
}

// result marks what was left running as cancelled and builds the Result
// with the run's status.
func (m *machine) result() *Result {
	all := append(slices.Clone(m.main), m.fin...)
	for _, st := range all {
		if st.rec.Status == engine.StatusRunning { // a for_each step with items cut short
			st.rec.Status = engine.StatusCancelled
			m.record(change{u: unit{st: st, index: -1}, status: engine.StatusCancelled, event: "step.cancelled"})
		}
	}
	status, now := m.status(all), m.drv.Now()
	res := &Result{RunID: m.runID, CaseID: m.caseID, Status: status, StartedAt: m.startedAt, FinishedAt: now}
	for _, st := range all {
		rec := st.rec
		rec.Items = slices.Clone(rec.Items)
		res.Steps = append(res.Steps, rec)
	}
	return res
}

// status is the run's status: interrupted when it stopped before every
// step ended (a signal, an approval nobody could give, a journal error),
// failed when a step failed without continue_on_error, else succeeded.
func (m *machine) status(all []*stepState) engine.RunStatus {
	if m.fatal != nil || m.interrupted || len(m.waiting) > 0 {
		return engine.RunInterrupted
	}
	failed := false
	for _, st := range all {
		if !st.ended() {
			return engine.RunInterrupted
		}
		failed = failed || st.failedHard()
	}
	if failed {
		return engine.RunFailed
	}
	return engine.RunSucceeded
}

func (m *machine) err(status engine.RunStatus) error {
	id := m.runID
	switch {
	case m.fatal != nil:
		return fmt.Errorf("run %q stopped: %w", id, m.fatal)
	case status != engine.RunInterrupted:
		return nil
	case len(m.waiting) > 0 && !m.interrupted:
		return fmt.Errorf("run %q: step %q waits for approval; resume it with `firebreak resume %s` on a terminal or with --yes: %w: %w",
			id, m.waiting[0], id, engine.ErrApprovalRequired, engine.ErrInterrupted)
	default:
		return fmt.Errorf("run %q stopped before every step ended; continue it with `firebreak resume %s`: %w", id, id, engine.ErrInterrupted)
	}
}

// Resume continues the run cfg.RunID from its journal in cfg.StateDir:
// steps that succeeded (and for_each items that succeeded with the same
// item value) keep their outputs and are not run again; every other step,
// failed ones included, is decided and run again, and the finally steps
// run again. cfg.Playbook must be the playbook the run started with (the
// journal's header names its source and SHA-256); nil Inputs, Finding and
// Incident, and an empty CaseID, are taken from the journal.
func Resume(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.StateDir == "" || cfg.RunID == "" {
		return nil, fmt.Errorf("runner: Resume needs a StateDir and the RunID to continue")
	}
	f, err := lockForResume(cfg.StateDir, cfg.RunID)
	if err != nil {
		return nil, err
	}
	r, prior, err := resumeRun(cfg)
	if err == nil {
		r.jr, err = reopenJournal(f, prior.size)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	_ = r.jr.add(&entry{Kind: kindResume, Time: r.cfg.now()})
	r.ctx = ctx
	r.Event("run.resumed", "", map[string]any{"run_id": cfg.RunID, "torn_tail": prior.TornTail})
	r.log.Info("run resumed", keyCase, r.cfg.CaseID, keyPlaybook, prior.Header.Playbook.Name)
	return r.execute(ctx)
}

// resumeRun reads the journal of a locked run and sets up its continuation.
func resumeRun(cfg Config) (*run, *RunState, error) {
	prior, err := LoadJournal(cfg.StateDir, cfg.RunID)
	if err != nil {
		return nil, nil, err
	}
	h := prior.Header
	if prior.Status == engine.RunSucceeded {
		return nil, nil, fmt.Errorf("run %q already succeeded; there is nothing to resume", cfg.RunID)
	}
	if cfg.Playbook != nil && cfg.Playbook.SHA256 != "" && h.Playbook.SHA256 != "" && cfg.Playbook.SHA256 != h.Playbook.SHA256 {
		return nil, nil, fmt.Errorf("playbook %q changed since run %q started (sha256 %s, now %s); resume with the file it started with (%s) or start a new run",
			h.Playbook.Name, cfg.RunID, h.Playbook.SHA256, cfg.Playbook.SHA256, h.Playbook.Source)
	}
	cfg.Inputs, cfg.Finding, cfg.Incident = orMap(cfg.Inputs, h.Inputs), orMap(cfg.Finding, h.Finding), orMap(cfg.Incident, h.Incident)
	if cfg.CaseID == "" {
		cfg.CaseID = h.CaseID
	}
	r, err := newRun(cfg, prior)
	if err != nil {
		return nil, nil, err
	}
	r.header, r.startedAt = h, h.StartedAt
	r.base.Run["started_at"] = h.StartedAt.UTC().Format(time.RFC3339)
	return r, prior, nil
}

func orMap(m, fallback map[string]any) map[string]any {
	if m == nil {
		return fallback
	}
	return m
}
