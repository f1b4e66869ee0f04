package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/graph"
)

// run is one Run or Resume call. Every field but the immutable
// configuration is owned by the coordinator goroutine (schedule).
type run struct {
	cfg     Config
	log     *slog.Logger
	jr      *journal
	header  Header
	main    []*stepState
	fin     []*stepState
	byID    map[string]*stepState
	base    engine.Env                // inputs, case, run, finding, incident
	secrets map[string]string         // StepInput.SecretEnv: read-only once made
	steps   map[string]engine.StepEnv // steps.<id> of the steps that ended
	results chan msg
	queue   []*stepState // steps with work to start, in the order they became ready
	limit   int

	running     int // units holding a parallelism slot
	inflight    int // worker and approval goroutines not yet reported back
	stopping    bool
	interrupted bool
	waiting     []string // approve steps with no approver to ask
	fatal       error    // the journal could not be written: stop
	startedAt   time.Time

	approveMu sync.Mutex // one question at a time (workers)
}

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
	r.header = h
	r.event(ctx, "run.started", "", map[string]any{"run_id": cfg.RunID, "playbook": h.Playbook.Name, "sha256": h.Playbook.SHA256})
	r.log.Info("run started", keyRun, cfg.RunID, keyCase, cfg.CaseID, keyPlaybook, h.Playbook.Name)
	return r.execute(ctx)
}

func newRun(cfg Config, prior *RunState) (*run, error) {
	if cfg.Playbook == nil || cfg.Registry == nil {
		return nil, errors.New("runner: Config needs a Playbook and a Registry")
	}
	if cfg.StateDir != "" && cfg.RunID == "" {
		return nil, errors.New("runner: Config needs a RunID to keep a journal; use runner.NewRunID")
	}
	r := &run{cfg: cfg, log: cfg.Logger, byID: map[string]*stepState{}, steps: map[string]engine.StepEnv{},
		results: make(chan msg, 64), limit: cfg.limit(), startedAt: cfg.now()}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With(keyRun, cfg.RunID)
	mainGraph, finGraph, err := cfg.Playbook.Graphs()
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	if r.main, err = r.build(cfg.Playbook.Steps, mainGraph, prior); err != nil {
		return nil, err
	}
	// Finally steps report on the whole invocation, so they run again on
	// every Resume: their journal records are not kept.
	if r.fin, err = r.build(cfg.Playbook.Finally, finGraph, nil); err != nil {
		return nil, err
	}
	r.base = engine.Env{Inputs: cfg.Inputs, Finding: cfg.Finding, Incident: cfg.Incident,
		Case: map[string]any{"id": cfg.CaseID},
		Run:  map[string]any{"id": cfg.RunID, "playbook": cfg.Playbook.Name, "started_at": r.startedAt.UTC().Format(time.RFC3339)}}
	r.secrets = r.secretEnv()
	return r, nil
}

// build makes the states of one block of steps (main or finally), checking
// their actions, wiring needs and dependents as the block's graph has
// them, and restoring from prior what a Resume keeps.
func (r *run) build(steps []*engine.Step, g *graph.Graph, prior *RunState) ([]*stepState, error) {
	out := make([]*stepState, len(steps))
	for i, s := range steps {
		a, ok := r.cfg.Registry.Lookup(s.Action)
		if !ok {
			return nil, fmt.Errorf("step %q: unknown action %q; see `firebreak actions`", s.ID, s.Action)
		}
		st := &stepState{step: s, action: a, spec: a.Spec(),
			rec: engine.StepRecord{ID: s.ID, Action: s.Action, Status: engine.StatusPending}}
		if prior != nil {
			st.prior, st.priorKey = prior.Steps[s.ID], prior.itemKeys[s.ID]
		}
		if _, dup := r.byID[s.ID]; dup {
			return nil, fmt.Errorf("step id %q is used in both steps and finally; rename one of them", s.ID)
		}
		out[i] = st
		r.byID[s.ID] = st
	}
	for _, st := range out {
		for _, n := range g.Needs(st.step.ID) {
			st.needs = append(st.needs, r.byID[n]) // the graph holds only this block's steps
		}
		for _, d := range g.Dependents(st.step.ID) {
			st.dependents = append(st.dependents, r.byID[d])
		}
	}
	return out, nil
}

func (r *run) newHeader() Header {
	pb := r.cfg.Playbook
	return Header{RunID: r.cfg.RunID, CaseID: r.cfg.CaseID, Inputs: r.cfg.Inputs, Finding: r.cfg.Finding,
		Incident: r.cfg.Incident, Operator: r.cfg.Operator, StartedAt: r.startedAt,
		Playbook: pb.Ref()}
}
