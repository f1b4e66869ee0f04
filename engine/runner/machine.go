package runner

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/graph"
)

// machine is the decision core of a run: which steps are ready, skipped,
// waiting for approval or failed because a need failed, what for_each
// fans out to, what a result means for the steps after it, and the run's
// status. It runs nothing, keeps no clock and writes nothing: a Driver
// does. The local runner (run, below) drives it from one coordinator
// goroutine with a journal; the Temporal workflow drives the same machine
// from workflow code, so both interpret a playbook with one implementation.
// It is used by one goroutine at a time.
type machine struct {
	reg         *engine.Registry
	pb          *engine.Playbook
	runID       string
	caseID      string
	operator    string
	outputBytes int // the outputs recorded so far, JSON (checkOutputs)
	drv         Driver
	log         *slog.Logger

	main    []*stepState
	fin     []*stepState
	byID    map[string]*stepState
	base    engine.Env                // inputs, case, run, finding, incident
	secrets map[string]string         // StepInput.SecretEnv: read-only once made
	steps   map[string]engine.StepEnv // steps.<id> of the steps that ended
	queue   []*stepState              // steps with work to start, in the order they became ready
	limit   int

	running     int // units holding a parallelism slot
	inflight    int // units and questions not yet answered
	stopping    bool
	interrupted bool
	waiting     []string // approve steps with no one to ask
	fatal       error    // the driver cannot keep its record: stop
	startedAt   time.Time
}

// Driver is what a Machine needs from whoever runs its units: a clock, a
// place to record every change, and someone to ask approvals. The local
// runner journals and calls actions in goroutines; a workflow records
// through activities and waits for signals.
type Driver interface {
	// Now is the time of a change.
	Now() time.Time
	// Stopped reports whether the run is being interrupted: nothing new
	// may start, and a unit that fails now was cancelled, not failed.
	Stopped() bool
	// Record records one change of a step or item (journal, custody event,
	// the step's record for the manifest, the live display). It reports
	// false when the change's outputs cannot be recorded (not JSON).
	Record(c Change) bool
	// Event appends a custody event that is not a step's change of state
	// (step.approved, step.declined).
	Event(name, step string, detail map[string]any)
	// Ask puts an approve step's question to someone and reports whether
	// there is anyone to ask; the answer comes back later through
	// Machine.Answer. With no one to ask the step waits and the run ends
	// interrupted.
	Ask(step, question string) bool
}

// Change is one change of a step, or of one for_each item, as a driver
// records it.
type Change struct {
	Step, Action string
	// Item is the for_each item's index, or -1 for the step itself;
	// ItemKey is the item's value as JSON, its identity across a resume.
	Item    int
	ItemKey string
	Finally bool
	Status  engine.StepStatus
	Attempt int
	Error   string
	Reason  string
	Outputs engine.Outputs
	// Count is set when a for_each step starts: its number of items.
	Count   *int
	RetryIn time.Duration
	Took    time.Duration
	// Event is the custody event to append ("" for none), with Detail.
	Event  string
	Detail map[string]any
	// Record is the step's record after the change, for the manifest.
	Record engine.StepRecord
	// Kept marks a step kept from before a resume: shown and set, but
	// neither journaled nor logged in custody again.
	Kept bool
}

// StepEvent is c as the live display sees it, at time now.
func (c Change) StepEvent(runID string, now time.Time) StepEvent {
	return StepEvent{RunID: runID, Step: c.Step, Action: c.Action, Item: c.Item, Status: c.Status, Attempt: c.Attempt,
		Error: c.Error, SkipReason: c.Reason, Time: now, Duration: c.Took, RetryIn: c.RetryIn, Finally: c.Finally}
}

// Kept is what a resumed run keeps of the run before it: the latest record
// of every step and each for_each item's value as JSON (its identity).
// RunState.Kept gives it from a journal; Machine.Kept from a machine.
type Kept struct {
	Steps    map[string]*engine.StepRecord `json:"steps,omitempty"`
	ItemKeys map[string][]string           `json:"item_keys,omitempty"`
}

// MachineConfig is what NewMachine needs; see Config for the fields it
// shares with Run.
type MachineConfig struct {
	Registry                  *engine.Registry
	Playbook                  *engine.Playbook
	Inputs, Finding, Incident map[string]any
	RunID, CaseID, Operator   string
	Parallelism               int
	// StartedAt is the run's first start (run.started_at).
	StartedAt time.Time
	// Kept is what a resume keeps; nil for a new run.
	Kept   *Kept
	Driver Driver
	// Logger receives the machine's Debug and Info records; nil: none.
	Logger *slog.Logger
}

func newMachine(cfg MachineConfig) (*machine, error) {
	if cfg.Playbook == nil || cfg.Registry == nil || cfg.Driver == nil {
		return nil, errors.New("runner: a run needs a Playbook, a Registry and a Driver")
	}
	m := &machine{reg: cfg.Registry, pb: cfg.Playbook, runID: cfg.RunID, caseID: cfg.CaseID, operator: cfg.Operator,
		drv: cfg.Driver, log: cfg.Logger, byID: map[string]*stepState{}, steps: map[string]engine.StepEnv{},
		limit: limitOf(cfg.Parallelism, cfg.Playbook.Concurrency), startedAt: cfg.StartedAt}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.log = m.log.With(keyRun, cfg.RunID)
	mainGraph, finGraph, err := cfg.Playbook.Graphs()
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	if m.main, err = m.build(cfg.Playbook.Steps, mainGraph, cfg.Kept); err != nil {
		return nil, err
	}
	// Finally steps report on the whole invocation, so they run again on
	// every Resume: their records are not kept.
	if m.fin, err = m.build(cfg.Playbook.Finally, finGraph, nil); err != nil {
		return nil, err
	}
	m.base = engine.Env{Inputs: cfg.Inputs, Finding: cfg.Finding, Incident: cfg.Incident,
		Case: map[string]any{"id": cfg.CaseID},
		Run:  map[string]any{"id": cfg.RunID, "playbook": cfg.Playbook.Name, "started_at": m.startedAt.UTC().Format(time.RFC3339)}}
	m.secrets = m.secretEnv()
	return m, nil
}

// limitOf is the number of steps and items that may run at once; 0: no bound.
func limitOf(p, b int) int {
	switch {
	case p <= 0:
		return max(b, 0)
	case b <= 0:
		return p
	default:
		return min(p, b)
	}
}

// build makes the states of one block of steps (main or finally), checking
// their actions, wiring needs and dependents as the block's graph has
// them, and restoring from kept what a Resume keeps.
func (m *machine) build(steps []*engine.Step, g *graph.Graph, kept *Kept) ([]*stepState, error) {
	out := make([]*stepState, len(steps))
	for i, s := range steps {
		a, ok := m.reg.Lookup(s.Action)
		if !ok {
			return nil, fmt.Errorf("step %q: unknown action %q; see `firebreak actions`", s.ID, s.Action)
		}
		st := &stepState{step: s, action: a, spec: a.Spec(),
			rec: engine.StepRecord{ID: s.ID, Action: s.Action, Status: engine.StatusPending}}
		if kept != nil {
			st.prior, st.priorKey = kept.Steps[s.ID], kept.ItemKeys[s.ID]
		}
		if _, dup := m.byID[s.ID]; dup {
			return nil, fmt.Errorf("step id %q is used in both steps and finally; rename one of them", s.ID)
		}
		out[i] = st
		m.byID[s.ID] = st
	}
	for _, st := range out {
		for _, n := range g.Needs(st.step.ID) {
			st.needs = append(st.needs, m.byID[n]) // the graph holds only this block's steps
		}
		for _, d := range g.Dependents(st.step.ID) {
			st.dependents = append(st.dependents, m.byID[d])
		}
	}
	return out, nil
}

// halted reports whether the run must start nothing more, noticing an
// interruption as soon as the driver is stopped: a unit's report and the
// cancellation may arrive together, and nothing may start in between.
func (m *machine) halted() bool {
	if !m.stopping && m.drv.Stopped() {
		m.stopping, m.interrupted = true, true
		m.log.Warn("run interrupted: starting nothing more, waiting for running steps", keyRunning, m.running)
	}
	return m.stopping
}

// idle reports whether nothing runs or waits for an answer and nothing
// more can start.
func (m *machine) idle() bool {
	return m.inflight == 0 && (m.stopping || len(m.queue) == 0)
}

// beginFinally starts the finally block: main steps an interruption left
// unstarted stay pending, and the finally steps start even after one.
func (m *machine) beginFinally() {
	for len(m.queue) > 0 {
		m.pop()
	}
	m.stopping = false
	m.begin(m.fin)
}

// kept is what a resume of this run keeps: every main step's latest record
// and each for_each item's identity.
func (m *machine) kept() *Kept {
	k := &Kept{Steps: map[string]*engine.StepRecord{}, ItemKeys: map[string][]string{}}
	for _, st := range m.main {
		rec := st.rec
		rec.Items = append([]engine.StepRecord(nil), rec.Items...)
		k.Steps[st.step.ID] = &rec
		switch {
		case st.items != nil:
			keys := make([]string, len(st.items))
			for i, it := range st.items {
				keys[i] = it.key
			}
			k.ItemKeys[st.step.ID] = keys
		case st.priorKey != nil:
			k.ItemKeys[st.step.ID] = st.priorKey
		}
	}
	return k
}

// Kept is what a resume of the run the journal tells keeps.
func (s *RunState) Kept() *Kept { return &Kept{Steps: s.Steps, ItemKeys: s.itemKeys} }
