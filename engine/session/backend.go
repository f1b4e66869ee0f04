package session

import (
	"context"
	"log/slog"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

// Backend runs the steps of a run. Local runs them in this process with
// engine/runner; a backend whose steps run in other processes (workers of
// a durable-execution service) implements the same methods.
//
// The session calls Record, then opens the case, then Run or Resume, and
// seals the case when that returns. Whatever process runs the steps, the
// Hooks are called in the session's process: Observer with every state
// change, Approver for every approve step.
type Backend interface {
	// InProcess reports whether the steps run in this process and record
	// into the case the session holds open (Hooks.Case). When false, the
	// session closes the case before Run (the workers open it themselves,
	// from Job.Evidence, and the store's lock passes between them) and
	// opens it again to seal it.
	InProcess() bool
	// Record keeps what resuming job needs beyond the backend's own run
	// state (the evidence location, the signing key, where the playbook
	// came from), before the run starts. Load gives it back.
	Record(ctx context.Context, job *Job) error
	// Run runs job from its first step; Resume continues a run that was
	// interrupted or failed. Both follow runner.Run's contract: a non-nil
	// error with a nil Result when the run could not start; an error
	// wrapping engine.ErrInterrupted when it stopped early (the Result's
	// status is then interrupted); failed steps give a Result with status
	// failed and a nil error.
	Run(ctx context.Context, job *Job, pb *engine.Playbook, h Hooks) (*runner.Result, error)
	Resume(ctx context.Context, job *Job, pb *engine.Playbook, h Hooks) (*runner.Result, error)
	// Runs lists the backend's runs, oldest first.
	Runs(ctx context.Context) ([]engine.RunInfo, error)
	// Load returns the job run runID was started with and the status it
	// is in now. A run the backend does not know gives an error wrapping
	// fs.ErrNotExist; one it knows that never started, ErrNotStarted.
	Load(ctx context.Context, runID string) (*Job, engine.RunStatus, error)
}

// discarder is a Backend that can forget a run that never started: the
// session calls Discard when a new run is refused after Record, so the
// refusal leaves no record behind. Local implements it.
type discarder interface {
	Discard(ctx context.Context, runID string) error
}

// Job describes one run in plain data, so that a backend can send it to
// another process: what to run, with what, and where its evidence goes.
type Job struct {
	RunID, CaseID string
	// Playbook names the playbook; its Source (a file, or
	// "builtin:NAME.yaml") is where a resume loads it again and its SHA256
	// what the run must keep using.
	Playbook engine.PlaybookRef
	// Inputs are resolved; Finding and Incident are what the run's
	// expressions read as `finding` and `incident` (nil without one).
	Inputs, Finding, Incident map[string]any
	// Operator is who the run acts as: an ARN, or local:USER@HOST.
	Operator string
	// Evidence is the location of the case's store, as
	// evidence.ParseLocation reads it: a directory or a URI.
	Evidence string
	// SignKey is the path of the key that signs the manifest; empty when
	// the manifest is unsigned.
	SignKey string
	// Parallelism bounds the steps running at once (0: the playbook's).
	Parallelism int
	// Label names the run among a batch (the target of --targets).
	Label     string
	StartedAt time.Time
}

// Hooks are the session's ends of a run, which a backend calls in the
// session's process.
type Hooks struct {
	// Case is the open case for steps to record into; nil when the
	// backend is not InProcess (or, for a bare benchmark, no evidence).
	Case engine.Recorder
	// Observer sees every state change of a step or item; it returns
	// quickly and may be called from any one goroutine at a time.
	Observer func(runner.StepEvent)
	// Approver answers approve steps; nil: an approve step stops the run,
	// resumable (engine.ErrApprovalRequired).
	Approver runner.Approver
	// Logger is the runner's logger; nil logs nothing.
	Logger *slog.Logger
}
