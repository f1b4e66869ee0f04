package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

// DefaultFinishTimeout bounds sealing a case after its run ended; an
// interrupted run's own context is already cancelled by then.
const DefaultFinishTimeout = 30 * time.Second

// ErrSucceeded: the run to resume already succeeded; there is nothing to do.
var ErrSucceeded = errors.New("run already succeeded")

// Manager starts, follows, lists and resumes runs through one Backend. Its
// methods are safe for concurrent use; set its fields before the first.
type Manager struct {
	Backend Backend
	// Open reopens what a request or a run's record names only by
	// location: its evidence store, signing key and playbook.
	Open Opener
	// Tool names this build in every case header.
	Tool evidence.ToolRef
	// Logger is the runner's logger; nil logs nothing.
	Logger *slog.Logger
	// FinishTimeout bounds sealing a case; 0 is DefaultFinishTimeout.
	FinishTimeout time.Duration
	// Now is the clock for ids and start times; nil is time.Now.
	Now func() time.Time

	mu   sync.Mutex
	live map[string]*Run
}

// Opener turns locations into what a run needs. Its functions' errors are
// returned as they are (wrapped), so a caller can give them its own wording
// and exit codes.
type Opener struct {
	// Store opens an evidence store; nil: local directories only
	// (evidence.NewSchemes), so S3 needs a Schemes with it registered.
	Store func(ctx context.Context, loc evidence.Location) (evidence.Store, error)
	// Signer loads a signing key; nil: evidence.LoadEd25519Signer.
	Signer func(path string) (evidence.Signer, error)
	// Playbook loads a playbook from its source, for a resume: a file, or
	// "builtin:NAME.yaml".
	Playbook func(source string) (*engine.Playbook, error)
}

// Request is one run to start or resume.
type Request struct {
	Playbook *engine.Playbook
	// Inputs are resolved (loader.ResolveInputs).
	Inputs map[string]any
	// Finding is what the run starts from; nil for none. A new run stores
	// it as its case's first artifact.
	Finding *Finding
	// RunID and CaseID name the run and its case; Start sets new ones
	// when they are empty. A resume must name its run.
	RunID, CaseID string
	// Evidence is the store's location (absolute: evidence.Location.Abs),
	// recorded for a resume; Store is the store, or nil to open Evidence
	// with Open.Store.
	Evidence evidence.Location
	Store    evidence.Store
	// SignKey is the path of the signing key, recorded for a resume;
	// Signer is that key, or nil to load SignKey (if any) with Open.Signer.
	SignKey string
	Signer  evidence.Signer
	// Operator is who the run acts as: the case header's, and (its ARN,
	// else its user id) the runner's.
	Operator evidence.Operator
	// Parallelism bounds the steps running at once (0: the playbook's).
	Parallelism int
	// Label names the run among a batch.
	Label string
	// Approver answers approve steps (runner.AutoApprove, a terminal
	// prompt, an Approvals); nil: an approve step stops the run.
	Approver runner.Approver
	// Observer sees every step event, called in turn with followers'
	// feeds; like runner.Config.Observer it must return quickly.
	Observer func(runner.StepEvent)
	// StartedAt is when the run started; Start sets now when it is zero.
	// A resume keeps the first start.
	StartedAt time.Time
}

// Start starts a new run of req in the background and returns it once its
// case is open and the finding stored, so its ids are known at once. An
// error means nothing ran: the store, key or case could not be opened, the
// run could not be recorded, or the finding could not be stored. The run
// is bound to ctx: cancelling ctx interrupts it as Run.Cancel does, and
// its case is still sealed.
func (m *Manager) Start(ctx context.Context, req *Request) (*Run, error) {
	now := m.now()
	if req.RunID == "" {
		req.RunID = runner.NewRunID(now)
	}
	if req.CaseID == "" {
		req.CaseID = evidence.NewCaseID(now)
	}
	if req.StartedAt.IsZero() {
		req.StartedAt = now
	}
	return m.launch(ctx, req, false)
}

// Resume continues run req.RunID (ResumeRequest builds req from the run's
// record) in the background: steps that succeeded are kept, every other
// runs again, in the same case. Errors are Start's.
func (m *Manager) Resume(ctx context.Context, req *Request) (*Run, error) {
	if req.RunID == "" || req.CaseID == "" {
		return nil, errors.New("session: Resume needs the run id and case id of the run (ResumeRequest gives them)")
	}
	return m.launch(ctx, req, true)
}

// ResumeRequest builds the request that resumes run runID from what the
// backend recorded: its playbook (loaded again from its source), inputs,
// case, evidence location, signing key, parallelism and label. The caller
// adds the operator, an Approver and an Observer. A run that already
// succeeded gives an error wrapping ErrSucceeded; one the backend does not
// know, fs.ErrNotExist; one with no record, ErrNoRecord.
//
// The run id must be one (runner.CheckRunID), and the inputs the record
// holds must still fit the playbook's declarations (loader.ResolveInputs):
// a record edited since the run started is refused with an error wrapping
// engine.ErrInvalidInput. The case checks them again against its custody
// log when it opens (evidence.OpenCase).
func (m *Manager) ResumeRequest(ctx context.Context, runID string) (*Request, error) {
	if err := runner.CheckRunID(runID); err != nil {
		return nil, err
	}
	job, status, err := m.Backend.Load(ctx, runID)
	if err != nil {
		return nil, err
	}
	if status == engine.RunSucceeded {
		return nil, fmt.Errorf("run %q: %w; there is nothing to resume", runID, ErrSucceeded)
	}
	if m.Open.Playbook == nil {
		return nil, errors.New("session: Manager.Open.Playbook is needed to resume")
	}
	pb, err := m.Open.Playbook(job.Playbook.Source)
	if err != nil {
		return nil, fmt.Errorf("playbook of run %q: %w", runID, err)
	}
	env := &engine.Env{Finding: job.Finding, Incident: job.Incident}
	if _, err := loader.ResolveInputs(pb, job.Inputs, env); err != nil {
		return nil, fmt.Errorf("run %q: the inputs its journal holds do not fit playbook %q any more (was the journal edited?): %w", runID, pb.Name, err)
	}
	loc, err := evidence.ParseLocation(job.Evidence)
	if err != nil {
		return nil, fmt.Errorf("run %q: the evidence location in its record: %w", runID, err)
	}
	return &Request{Playbook: pb, Inputs: job.Inputs, RunID: runID, CaseID: job.CaseID, Evidence: loc,
		SignKey: job.SignKey, Parallelism: job.Parallelism, Label: job.Label, StartedAt: job.StartedAt}, nil
}

// Runs lists the backend's runs, oldest first.
func (m *Manager) Runs(ctx context.Context) ([]engine.RunInfo, error) {
	return m.Backend.Runs(ctx)
}

// Live returns the run runID if this Manager started or resumed it and it
// has not ended yet.
func (m *Manager) Live(runID string) (*Run, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.live[runID]
	return r, ok
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

func (m *Manager) finishTimeout() time.Duration {
	if m.FinishTimeout > 0 {
		return m.FinishTimeout
	}
	return DefaultFinishTimeout
}
