package temporalrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

// DefaultHeartbeat is the activities' heartbeat timeout: a worker that
// stops heartbeating for this long is taken as lost, and the attempt runs
// again on another worker.
const DefaultHeartbeat = 20 * time.Second

// Activities run a run's steps on a worker: the registered actions, with
// evidence from the case the worker opens.
type Activities struct {
	Registry *engine.Registry
	// OpenStore opens an evidence location; nil: local directories only.
	OpenStore func(ctx context.Context, loc evidence.Location) (evidence.Store, error)
	// Logger receives the actions' logs; nil: none.
	Logger *slog.Logger
	// Identity names this worker in custody (worker.took events).
	Identity string

	mu    sync.Mutex
	cases map[string]*openCase
}

// openCase is a case this worker holds open for its activities.
type openCase struct {
	ready chan struct{} // closed once cs or err is set
	cs    *evidence.Case
	err   error
	refs  int
}

// Step runs one attempt of a unit: it appends the custody events the
// workflow sent, then runs the action with runner.RunAttempt under the
// step's timeout, heartbeating. An action's error is returned as a
// non-retryable application error with an ActionFailure: the workflow
// decides whether to retry it, as the local runner does.
func (a *Activities) Step(ctx context.Context, req StepRequest) (engine.Outputs, error) {
	act, ok := a.Registry.Lookup(req.Action)
	if !ok {
		return nil, actionError(fmt.Errorf("step %q: unknown action %q on this worker; run a worker built with it", req.Step, req.Action))
	}
	params, err := decodeParams(act.Spec(), req.Params)
	if err != nil {
		return nil, actionError(fmt.Errorf("step %q: %w", req.Step, err))
	}
	stop := heartbeat(ctx)
	defer stop()
	cs, err := a.acquire(ctx, req.Case)
	if err != nil {
		return nil, err // retried by Temporal: the case may be busy or the store down
	}
	defer a.release(req.Case.CaseID)
	if info := activity.GetInfo(ctx); info.Attempt > 1 {
		// A worker was lost (or the server restarted) while this attempt's
		// unit ran: the custody log says so before the unit runs again.
		_ = cs.Event(context.WithoutCancel(ctx), "step.worker_lost", req.Step, map[string]any{
			"attempt": req.Attempt, "delivery": info.Attempt, "worker": a.Identity, "item": req.Item})
	}
	if err := a.append(ctx, cs, req.Events); err != nil {
		return nil, err
	}
	log := a.logger().With("run", req.Case.RunID, "step", req.Step, "action", req.Action)
	in := &engine.StepInput{RunID: req.Case.RunID, CaseID: req.Case.CaseID, StepID: req.Step, Params: params,
		Attempt: req.Attempt, Log: log, Evidence: cs.Evidence(req.Step), Operator: req.Case.Operator,
		ForEach: req.Item >= 0, ItemIndex: max(req.Item, 0), PlaybookDir: req.PlaybookDir, SecretEnv: req.SecretEnv}
	if req.RunLog != nil {
		path, err := writeRunLog(req.RunLog)
		if err != nil {
			return nil, err
		}
		defer os.Remove(path)
		in.RunLogPath = path
	}
	out, err := runner.RunAttempt(ctx, act, in, req.Timeout)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // cancelled or timed out: Temporal's to handle
		}
		return nil, actionError(err)
	}
	return out, nil
}

// Events appends custody events the workflow made when no step was
// starting to carry them.
func (a *Activities) Events(ctx context.Context, ref CaseRef, events []CustodyEvent) error {
	stop := heartbeat(ctx)
	defer stop()
	cs, err := a.acquire(ctx, ref)
	if err != nil {
		return err
	}
	defer a.release(ref.CaseID)
	return a.append(ctx, cs, events)
}

func (a *Activities) append(ctx context.Context, cs *evidence.Case, events []CustodyEvent) error {
	for _, e := range events {
		if err := cs.Event(context.WithoutCancel(ctx), e.Name, e.Step, e.Detail); err != nil {
			return fmt.Errorf("custody event %s of step %q: %w", e.Name, e.Step, err)
		}
	}
	return nil
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// acquire returns the case ref names, open in this worker: opened now
// (waiting while another worker holds its lock), or shared with the
// activities using it already.
func (a *Activities) acquire(ctx context.Context, ref CaseRef) (*evidence.Case, error) {
	a.mu.Lock()
	if a.cases == nil {
		a.cases = map[string]*openCase{}
	}
	oc, ok := a.cases[ref.CaseID]
	if ok {
		oc.refs++
		a.mu.Unlock()
		select {
		case <-oc.ready:
		case <-ctx.Done():
			a.release(ref.CaseID)
			return nil, ctx.Err()
		}
		if oc.err != nil {
			a.release(ref.CaseID)
			return nil, oc.err
		}
		return oc.cs, nil
	}
	oc = &openCase{ready: make(chan struct{}), refs: 1}
	a.cases[ref.CaseID] = oc
	a.mu.Unlock()
	oc.cs, oc.err = a.open(ctx, ref)
	close(oc.ready)
	if oc.err != nil {
		a.release(ref.CaseID)
		return nil, oc.err
	}
	return oc.cs, nil
}

// release drops one use of a case; the last one closes it, releasing the
// store's lock for the other workers and the session.
func (a *Activities) release(caseID string) {
	a.mu.Lock()
	oc := a.cases[caseID]
	oc.refs--
	last := oc.refs == 0
	if last {
		delete(a.cases, caseID)
	}
	a.mu.Unlock()
	if last && oc.cs != nil {
		_ = oc.cs.Close()
	}
}

// open opens the case, waiting while its lock is held elsewhere (another
// worker's activities, or the session sealing it).
func (a *Activities) open(ctx context.Context, ref CaseRef) (*evidence.Case, error) {
	loc, err := evidence.ParseLocation(ref.Evidence)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("evidence location %q: %v", ref.Evidence, err), "firebreak.Evidence", nil)
	}
	openStore := a.OpenStore
	if openStore == nil {
		openStore = evidence.NewSchemes().OpenLocation
	}
	store, err := openStore(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("opening evidence %s: %w", ref.Evidence, err)
	}
	h := evidence.Header{CaseID: ref.CaseID, RunID: ref.RunID, Playbook: ref.Playbook, Tool: evidence.ToolRef{Name: ref.Tool},
		Operator: operator(ref.Operator), Inputs: ref.Inputs, StartedAt: ref.StartedAt}
	for wait := 20 * time.Millisecond; ; wait = min(wait*2, time.Second) {
		cs, err := evidence.OpenCase(ctx, store, h, nil)
		if err == nil {
			return cs, nil
		}
		if !errors.Is(err, evidence.ErrCaseBusy) {
			return nil, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for case %q: %w (last: %w)", ref.CaseID, ctx.Err(), err)
		}
	}
}

func operator(s string) evidence.Operator {
	if strings.HasPrefix(s, "arn:") {
		return evidence.Operator{ARN: s}
	}
	return evidence.Operator{UserID: s}
}

// heartbeat heartbeats until stop is called (stop returns once it has
// stopped), so a lost worker is noticed within the heartbeat timeout and a
// cancel reaches the action.
func heartbeat(ctx context.Context) (stop func()) {
	every := time.Second
	if t := activity.GetInfo(ctx).HeartbeatTimeout; t > 0 {
		every = max(t/4, 100*time.Millisecond)
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			default:
			}
			activity.RecordHeartbeat(ctx)
			select {
			case <-tk.C:
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// writeRunLog writes l as JSON lines to a temporary file.
func writeRunLog(l *RunLog) (string, error) {
	f, err := os.CreateTemp("", "firebreak-run-*.jsonl")
	if err != nil {
		return "", fmt.Errorf("writing the run log: %w", err)
	}
	enc := json.NewEncoder(f)
	err = enc.Encode(l.Run)
	for i := 0; err == nil && i < len(l.Events); i++ {
		err = enc.Encode(l.Events[i])
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the run log: %w", err)
	}
	return f.Name(), nil
}

// actionError is an action's error as the workflow receives it.
func actionError(err error) error {
	return temporal.NewNonRetryableApplicationError(runner.ErrorText(err), actionErrorType, nil,
		ActionFailure{Text: runner.ErrorText(err), Retryable: engine.IsRetryable(err)})
}

// encodeParams makes params plain JSON: durations as their text.
func encodeParams(p engine.Params) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		if d, ok := v.(time.Duration); ok {
			v = d.String()
		}
		out[k] = v
	}
	return out
}

// decodeParams coerces params back to the action's declared types (JSON
// made every number a float64 and every duration a string).
func decodeParams(spec engine.ActionSpec, in map[string]any) (engine.Params, error) {
	out := make(engine.Params, len(in))
	for k, v := range in {
		p, ok := spec.Param(k)
		if !ok {
			return nil, fmt.Errorf("action %q takes no parameter %q (is this worker built from the same firebreak?)", spec.Name, k)
		}
		c, err := engine.Coerce(p.Type, v)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", k, err)
		}
		out[k] = c
	}
	return out, nil
}
