package runner

import (
	"fmt"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// Machine is the runner's decision core for a driver outside this package
// (the Temporal workflow): the same code Run and Resume use decides which
// steps run, skip, wait or fail, evaluates every expression and parameter,
// fans out for_each, and gives the run's status. The driver runs what Next
// returns and reports back through Done, Retrying and Answer; everything
// the machine decides reaches the driver's Record. A Machine is used by one
// goroutine at a time, and is deterministic: given the same reports in the
// same order it makes the same changes (no clock but Driver.Now, no map
// order, no randomness).
type Machine struct{ m *machine }

// Launch is a unit to run: a step, or one item of a for_each step. Input's
// params are evaluated, coerced and defaulted; Evidence, Log and
// RunLogPath are the driver's to fill.
type Launch struct {
	Step  *engine.Step
	Item  int // -1: the step itself
	Input engine.StepInput
	u     unit
}

// NewMachine builds the machine of one run. A resume gives cfg.Kept.
func NewMachine(cfg MachineConfig) (*Machine, error) {
	m, err := newMachine(cfg)
	if err != nil {
		return nil, err
	}
	return &Machine{m: m}, nil
}

// Restore keeps the main steps that succeeded before a resume (shown as
// changes with Kept set).
func (x *Machine) Restore() { x.m.restore() }

// Begin makes ready the main steps that need nothing.
func (x *Machine) Begin() { x.m.begin(x.m.main) }

// BeginFinally starts the finally block once the main block is idle; the
// driver stops being Stopped for it (finally steps run after an
// interruption too).
func (x *Machine) BeginFinally() { x.m.beginFinally() }

// HasFinally reports whether the playbook has finally steps.
func (x *Machine) HasFinally() bool { return len(x.m.fin) > 0 }

// Next marks running and returns the units that may start now, within the
// run's parallelism. A unit whose params do not evaluate fails at once
// and is not returned.
func (x *Machine) Next() []Launch {
	batch := x.m.startable()
	for i := range batch {
		batch[i].Step = batch[i].u.st.step
		batch[i].Item = batch[i].u.index
	}
	return batch
}

// Done reports that a unit ended: out, or err. attempt is the attempt
// that ended it.
func (x *Machine) Done(step string, item, attempt int, out engine.Outputs, err error) error {
	u, err2 := x.unit(step, item)
	if err2 != nil {
		return err2
	}
	x.m.finished(u, attempt, out, err)
	return nil
}

// Retrying reports that attempt-1 of a unit failed with err and attempt
// starts after wait.
func (x *Machine) Retrying(step string, item, attempt int, err error, wait time.Duration) error {
	u, err2 := x.unit(step, item)
	if err2 != nil {
		return err2
	}
	x.m.retrying(u, attempt, err, wait)
	return nil
}

// Answer gives the answer to the question of an approve step: ok, or err
// when none could be had.
func (x *Machine) Answer(step string, ok bool, err error) error {
	u, err2 := x.unit(step, -1)
	if err2 != nil {
		return err2
	}
	if u.st.rec.Status != engine.StatusWaiting {
		return fmt.Errorf("step %q is not waiting for approval", step)
	}
	x.m.inflight--
	x.m.approval(u, ok, err)
	return nil
}

// Waiting reports whether step waits for an answer to its question.
func (x *Machine) Waiting(step string) bool {
	st, ok := x.m.byID[step]
	return ok && st.rec.Status == engine.StatusWaiting
}

// Idle reports whether nothing runs or waits for an answer, and nothing
// more can start: the block is over.
func (x *Machine) Idle() bool {
	x.m.halted()
	return x.m.idle()
}

// Halted reports whether the run starts nothing more (the driver stopped).
func (x *Machine) Halted() bool { return x.m.halted() }

// Fail stops the run as a journal error does: nothing more starts, and
// the run ends interrupted with err.
func (x *Machine) Fail(err error) {
	if x.m.fatal == nil {
		x.m.fatal, x.m.stopping = err, true
	}
}

// Finish ends the run: a for_each step left running is cancelled, and the
// Result holds every step's record and the run's status. err is Run's
// error for that status.
func (x *Machine) Finish() (*Result, error) {
	res := x.m.result()
	return res, x.m.err(res.Status)
}

// Kept is what a resume of this run keeps.
func (x *Machine) Kept() *Kept { return x.m.kept() }

// Step returns the step called id.
func (x *Machine) Step(id string) (*engine.Step, bool) {
	st, ok := x.m.byID[id]
	if !ok {
		return nil, false
	}
	return st.step, true
}

// Spec returns the spec of the action of step id.
func (x *Machine) Spec(id string) (engine.ActionSpec, bool) {
	st, ok := x.m.byID[id]
	if !ok {
		return engine.ActionSpec{}, false
	}
	return st.spec, true
}

func (x *Machine) unit(step string, item int) (unit, error) {
	st, ok := x.m.byID[step]
	if !ok {
		return unit{}, fmt.Errorf("runner: no step %q", step)
	}
	if item >= len(st.items) {
		return unit{}, fmt.Errorf("runner: step %q has no item %d", step, item)
	}
	return unit{st: st, index: item}, nil
}
