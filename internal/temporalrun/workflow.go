package temporalrun

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

// Workflow is the generic run workflow of a Registry: it parses the
// playbook the run started with and drives runner.Machine over it.
type Workflow struct {
	Registry *engine.Registry
}

// maxLostWorker bounds how often one attempt of a unit is delivered again
// after its worker was lost (heartbeat or start-to-close timeout).
const maxLostWorker = 10

// wf is one execution: the machine's driver in workflow code.
type wf struct {
	ctx      workflow.Context
	in       RunInput
	ref      CaseRef
	m        *runner.Machine
	stopped  bool // cancel requested
	finally  bool // the finally block runs: nothing is stopped
	events   []Event
	custody  []CustodyEvent // made, not yet sent to a worker
	asked    []string       // approve steps asked, in order (no map order in a workflow)
	flushing []workflow.Future
	// keep is a context no cancel reaches: custody events are written
	// whatever happens to the run.
	keep workflow.Context
}

// Run is the workflow function.
func (w *Workflow) Run(ctx workflow.Context, in RunInput) (*RunOutput, error) {
	job := in.Job
	pb, err := (&loader.Loader{Registry: w.Registry}).LoadBytes(job.Playbook.Source, in.Playbook)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("playbook %s: %v", job.Playbook.Source, err), "firebreak.Playbook", nil)
	}
	if job.Playbook.SHA256 != "" && pb.SHA256 != job.Playbook.SHA256 {
		return nil, temporal.NewNonRetryableApplicationError("the playbook's bytes do not match the run's sha256", "firebreak.Playbook", nil)
	}
	x := &wf{ctx: ctx, in: in,
		ref: CaseRef{Evidence: job.Evidence, CaseID: job.CaseID, RunID: job.RunID, Playbook: job.Playbook, Tool: in.Tool,
			Operator: job.Operator, Inputs: job.Inputs, StartedAt: job.StartedAt}}
	x.keep, _ = workflow.NewDisconnectedContext(ctx)
	if err := workflow.SetQueryHandler(ctx, EventsQuery, func(from int) ([]Event, error) {
		if from < 0 || from > len(x.events) {
			from = len(x.events)
		}
		return x.events[from:], nil
	}); err != nil {
		return nil, err
	}
	x.m, err = runner.NewMachine(runner.MachineConfig{Registry: w.Registry, Playbook: pb, Inputs: job.Inputs,
		Finding: job.Finding, Incident: job.Incident, RunID: job.RunID, CaseID: job.CaseID, Operator: job.Operator,
		Parallelism: job.Parallelism, StartedAt: job.StartedAt, Kept: in.Kept, Driver: x})
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "firebreak.Playbook", nil)
	}
	if in.Resume {
		x.Event("run.resumed", "", map[string]any{"run_id": job.RunID, "backend": "temporal"})
	} else {
		x.Event("run.started", "", map[string]any{"run_id": job.RunID, "playbook": pb.Name, "sha256": pb.SHA256, "backend": "temporal"})
	}
	x.m.Restore()
	x.m.Begin()
	x.schedule()
	if x.m.HasFinally() {
		x.finally = true
		x.ctx, _ = workflow.NewDisconnectedContext(ctx)
		x.m.BeginFinally()
		x.schedule()
	}
	res, runErr := x.m.Finish()
	x.flushAll()
	out := &RunOutput{Result: res, Kept: x.m.Kept(), Events: x.events}
	if runErr != nil {
		out.Err = runErr.Error()
		out.ApprovalRequired = errors.Is(runErr, engine.ErrApprovalRequired)
	}
	return out, nil
}

// Now is workflow time: the same on every replay.
func (x *wf) Now() time.Time { return workflow.Now(x.ctx) }

// Stopped reports a cancel of the workflow (outside the finally block).
func (x *wf) Stopped() bool { return x.stopped && !x.finally }

// Record publishes c to followers and queues its custody event; the step
// records reach the case in the run's result, which the session seals.
func (x *wf) Record(c runner.Change) bool {
	ev := Event{StepEvent: c.StepEvent(x.in.Job.RunID, x.Now())}
	if c.Status == engine.StatusWaiting {
		if s, ok := x.m.Step(c.Step); ok {
			ev.Question = s.Approve
		}
	}
	x.events = append(x.events, ev)
	if c.Event != "" && !c.Kept {
		x.Event(c.Event, c.Step, c.Detail)
	}
	return true
}

// Event queues a custody event for the next activity to append.
func (x *wf) Event(name, step string, detail map[string]any) {
	x.custody = append(x.custody, CustodyEvent{Name: name, Step: step, Detail: detail})
}

// Ask: someone can always answer, by signal (a follower's Approver,
// firebreak approve, the console), for as long as the workflow lives.
func (x *wf) Ask(step, _ string) bool {
	x.asked = append(x.asked, step)
	return true
}

// pending is a unit's activity in flight.
type pending struct {
	l       runner.Launch
	attempt int
	f       workflow.Future
}

// schedule runs one block: it starts what the machine makes ready, and
// handles activity results, retry timers, approve signals and a cancel
// until the block is idle.
func (x *wf) schedule() {
	signals := workflow.GetSignalChannel(x.ctx, ApproveSignal)
	var running []*pending
	type timer struct {
		p *pending
		f workflow.Future
	}
	var timers []timer
	for {
		if !x.m.Halted() {
			for _, l := range x.m.Next() {
				running = append(running, x.start(l, 1))
			}
		}
		x.flush()
		if x.m.Idle() && len(running) == 0 && len(timers) == 0 {
			return
		}
		sel := workflow.NewSelector(x.ctx)
		for i, p := range running {
			sel.AddFuture(p.f, func(workflow.Future) {
				running = append(running[:i:i], running[i+1:]...)
				x.done(p, func(n *pending) { running = append(running, n) }, func(n *pending, f workflow.Future) { timers = append(timers, timer{n, f}) })
			})
		}
		for i, t := range timers {
			sel.AddFuture(t.f, func(f workflow.Future) {
				timers = append(timers[:i:i], timers[i+1:]...)
				if err := f.Get(x.ctx, nil); err != nil || x.m.Halted() {
					// Cancelled while waiting to retry: the unit ends cancelled.
					_ = x.m.Done(t.p.l.Step.ID, t.p.l.Item, t.p.attempt-1, nil, fmt.Errorf("waiting to retry: %w", errInterrupted))
					return
				}
				running = append(running, x.start(t.p.l, t.p.attempt))
			})
		}
		sel.AddReceive(signals, func(c workflow.ReceiveChannel, _ bool) {
			var a Answer
			c.Receive(x.ctx, &a)
			x.answer(a)
		})
		if !x.stopped && !x.finally {
			sel.AddReceive(x.ctx.Done(), func(workflow.ReceiveChannel, bool) { x.cancel() })
		}
		sel.Select(x.ctx)
	}
}

var errInterrupted = errors.New("the run was interrupted")

// cancel stops the run: nothing more starts, running activities are
// cancelled (and end cancelled), approvals stop waiting.
func (x *wf) cancel() {
	x.stopped = true
	x.m.Halted()
	for _, step := range x.asked {
		if x.m.Waiting(step) {
			_ = x.m.Answer(step, false, errInterrupted)
		}
	}
}

func (x *wf) answer(a Answer) {
	if !x.m.Waiting(a.Step) {
		return // an answer to a question not asked (any more): ignored
	}
	if a.Operator != "" { // who answered (firebreak approve), before the machine's step.approved or step.declined
		x.Event("approval.answered", a.Step, map[string]any{"approve": a.Approve, "by": a.Operator})
	}
	_ = x.m.Answer(a.Step, a.Approve, nil)
}

// start schedules attempt of unit l as an activity, carrying the custody
// events made so far.
func (x *wf) start(l runner.Launch, attempt int) *pending {
	s := l.Step
	hb := x.in.Heartbeat
	if hb <= 0 {
		hb = DefaultHeartbeat
	}
	closeBy := 12 * time.Hour // no timeout of its own: the heartbeat notices a lost worker
	if s.Timeout > 0 {
		closeBy = s.Timeout + time.Minute
	}
	ctx := workflow.WithActivityOptions(x.ctx, workflow.ActivityOptions{
		StartToCloseTimeout: closeBy, HeartbeatTimeout: hb, WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			MaximumAttempts: maxLostWorker, NonRetryableErrorTypes: []string{actionErrorType}},
	})
	in := l.Input
	req := StepRequest{Case: x.ref, Step: s.ID, Action: s.Action, Item: l.Item, Params: encodeParams(in.Params),
		Attempt: attempt, Timeout: s.Timeout, PlaybookDir: in.PlaybookDir, SecretEnv: in.SecretEnv, Events: x.custody}
	if runLogActions[s.Action] {
		j := x.in.Job
		req.RunLog = &RunLog{Run: map[string]any{"kind": "run", "backend": "temporal", "run_id": j.RunID, "case_id": j.CaseID,
			"playbook": j.Playbook, "inputs": j.Inputs, "operator": j.Operator, "started_at": j.StartedAt},
			Events: append([]Event(nil), x.events...)}
	}
	x.custody = nil
	return &pending{l: l, attempt: attempt, f: workflow.ExecuteActivity(ctx, StepActivity, req)}
}

// done handles the end of an attempt: the unit's end, or a retry after
// the runner's backoff.
func (x *wf) done(p *pending, run func(*pending), wait func(*pending, workflow.Future)) {
	var out engine.Outputs
	err := p.f.Get(x.ctx, &out)
	s, item := p.l.Step, p.l.Item
	if err == nil {
		_ = x.m.Done(s.ID, item, p.attempt, out, nil)
		return
	}
	failure, retryable := failureOf(err)
	if x.m.Halted() || !runner.ShouldRetry(s, p.attempt, retryable) {
		_ = x.m.Done(s.ID, item, p.attempt, nil, failure)
		return
	}
	var d time.Duration
	_ = workflow.SideEffect(x.ctx, func(workflow.Context) any { return runner.Backoff(s.Backoff, p.attempt) }).Get(&d)
	_ = x.m.Retrying(s.ID, item, p.attempt+1, failure, d)
	_ = run // retries wait on a timer first
	wait(&pending{l: p.l, attempt: p.attempt + 1}, workflow.NewTimer(x.ctx, d))
}

// failureOf is the error an activity's failure stands for, and whether
// the action marked it retryable. A failure that is not the action's (a
// worker lost on every delivery, a case that would not open) is not.
func failureOf(err error) (error, bool) {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == actionErrorType {
		var f ActionFailure
		if app.HasDetails() && app.Details(&f) == nil {
			return errors.New(f.Text), f.Retryable
		}
		return errors.New(app.Error()), false
	}
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		return errInterrupted, false
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		return fmt.Errorf("the step's worker did not finish it (%s timeout, after %d deliveries): %w", timeout.TimeoutType(), maxLostWorker, err), false
	}
	if errors.As(err, &app) {
		return errors.New(app.Error()), false
	}
	return err, false
}

// flush sends the custody events no starting step carried in an activity
// of their own.
func (x *wf) flush() {
	if len(x.custody) == 0 {
		return
	}
	ctx := workflow.WithActivityOptions(x.keep, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: DefaultHeartbeat,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
	x.flushing = append(x.flushing, workflow.ExecuteActivity(ctx, EventsActivity, x.ref, x.custody))
	x.custody = nil
}

// flushAll sends what is left and waits for every custody activity: the
// session seals the case only after the workflow ends.
func (x *wf) flushAll() {
	x.flush()
	for _, f := range x.flushing {
		_ = f.Get(x.keep, nil)
	}
	x.flushing = nil
}
