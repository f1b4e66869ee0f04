package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// run is one Run or Resume call: the local driver of a machine. Every
// field is owned by the coordinator goroutine (schedule), which is the
// only caller of the machine.
type run struct {
	*machine
	cfg Config
	// ctx is the context of the block being scheduled: the run's, then
	// for the finally steps one that an interruption does not cancel. It
	// is kept here because the machine asks the driver, not a ctx, whether
	// the run is stopping.
	ctx     context.Context
	jr      *journal
	header  Header
	results chan msg

	approveMu sync.Mutex // one question at a time (workers)
}

var _ Driver = (*run)(nil)

// Run starts a new run of cfg.Playbook. The returned error is non-nil when
// the run could not start, could not keep its journal, or was interrupted
// (it then wraps engine.ErrInterrupted, and ErrApprovalRequired when an
// approve step had no one to ask); Result.Status is then interrupted and the
// run can be resumed. A run whose steps failed returns a Result with status
// failed and a nil error: the failures are in Result.Steps.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	r, err := newRun(cfg, nil)
	if err != nil {
		return nil, err
	}
	h := r.newHeader()
	if cfg.StateDir != "" {
		if r.jr, err = createJournal(cfg.StateDir, cfg.RunID); err != nil {
			return nil, err
		}
		if err := r.jr.add(&entry{Kind: kindRun, Time: h.StartedAt, Header: &h}); err != nil {
			r.jr.close()
			return nil, fmt.Errorf("recording the run header: %w", err)
		}
	}
	r.header, r.ctx = h, ctx
	r.Event("run.started", "", map[string]any{"run_id": cfg.RunID, "playbook": h.Playbook.Name, "sha256": h.Playbook.SHA256})
	r.log.Info("run started", keyCase, cfg.CaseID, keyPlaybook, h.Playbook.Name)
	return r.execute(ctx)
}

func newRun(cfg Config, prior *RunState) (*run, error) {
	if cfg.Playbook == nil || cfg.Registry == nil {
		return nil, errors.New("runner: Config needs a Playbook and a Registry")
	}
	if cfg.StateDir != "" && cfg.RunID == "" {
		return nil, errors.New("runner: Config needs a RunID to keep a journal; use runner.NewRunID")
	}
	r := &run{cfg: cfg, results: make(chan msg, 64)}
	var kept *Kept
	if prior != nil {
		kept = prior.Kept()
	}
	m, err := newMachine(MachineConfig{Registry: cfg.Registry, Playbook: cfg.Playbook, Inputs: cfg.Inputs,
		Finding: cfg.Finding, Incident: cfg.Incident, RunID: cfg.RunID, CaseID: cfg.CaseID, Operator: cfg.Operator,
		Parallelism: cfg.Parallelism, StartedAt: cfg.now(), Kept: kept, Driver: r, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	r.machine = m
	return r, nil
}

func (r *run) newHeader() Header {
	pb := r.cfg.Playbook
	return Header{RunID: r.cfg.RunID, CaseID: r.cfg.CaseID, Inputs: r.cfg.Inputs, Finding: r.cfg.Finding,
		Incident: r.cfg.Incident, Operator: r.cfg.Operator, StartedAt: r.startedAt,
		Playbook: pb.Ref()}
}

// Now is the run's clock (Config.Clock).
func (r *run) Now() time.Time { return r.cfg.now() }

// Stopped reports whether the block's context is done.
func (r *run) Stopped() bool { return r.ctx != nil && r.ctx.Err() != nil }

// Record writes c to the journal (buffered: flushed before anything is
// started), the custody log, the case's step record and the observer.
// It reports false when c's outputs cannot be encoded in the journal.
func (r *run) Record(c Change) bool {
	now := r.cfg.now()
	if r.jr != nil && !c.Kept {
		e := &entry{Kind: kindStep, Time: now, Step: c.Step, Action: c.Action, Status: string(c.Status),
			Attempt: c.Attempt, Error: c.Error, Reason: c.Reason, Outputs: c.Outputs, Count: c.Count}
		if c.Item >= 0 {
			i := c.Item
			e.Kind, e.Index, e.Key = kindItem, &i, c.ItemKey
		}
		if err := r.jr.add(e); err != nil {
			return false
		}
	}
	if c.Event != "" && !c.Kept {
		r.Event(c.Event, c.Step, c.Detail)
	}
	if r.cfg.Case != nil {
		r.cfg.Case.SetStep(c.Record)
	}
	if r.cfg.Observer != nil {
		r.cfg.Observer(c.StepEvent(r.cfg.RunID, now))
	}
	return true
}

// Event appends a custody event. A custody log that cannot be written is
// logged, not fatal: stopping containment half-way because the evidence
// store hiccuped would do more harm than a gap the log makes visible.
func (r *run) Event(name, step string, detail map[string]any) {
	if r.cfg.Case == nil {
		return
	}
	ctx := r.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if err := r.cfg.Case.Event(context.WithoutCancel(ctx), name, step, detail); err != nil {
		r.log.Error("custody event not recorded", keyStep, step, keyReason, name, keyError, err)
	}
}

// Ask asks the Approver on its own goroutine, one question at a time; the
// answer comes back to the coordinator as a message.
func (r *run) Ask(step, question string) bool {
	if r.cfg.Approver == nil {
		return false
	}
	u := unit{st: r.byID[step], index: -1}
	approver, ctx := r.cfg.Approver, r.ctx
	go func() {
		r.approveMu.Lock()
		ok, err := approver.Approve(ctx, step, question)
		r.approveMu.Unlock()
		r.results <- msg{kind: msgApproval, u: u, approved: ok, err: err}
	}()
	return true
}

func (r *run) evidence(step string) engine.Evidence {
	if r.cfg.Case == nil {
		return nopEvidence{}
	}
	return r.cfg.Case.Evidence(step)
}
