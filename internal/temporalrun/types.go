package temporalrun

import (
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
)

// Names of the workflow, its activities, signal and query, as registered
// on a worker.
const (
	WorkflowName   = "firebreak.Run"
	StepActivity   = "firebreak.Step"
	EventsActivity = "firebreak.Events"
	ApproveSignal  = "approve"
	EventsQuery    = "events"
	// DefaultTaskQueue is the task queue workers poll and runs start on
	// when none is given.
	DefaultTaskQueue = "firebreak"
	// actionErrorType is the application error type of an action's error.
	actionErrorType = "firebreak.ActionError"
)

// RunInput is what a run's workflow starts from: the job, the playbook's
// bytes (parsed in the workflow, so every worker interprets the same
// playbook) and, for a resume, what the run kept.
type RunInput struct {
	Job      session.Job
	Playbook []byte
	Kept     *runner.Kept `json:",omitempty"`
	Resume   bool
	// Tool names the build, for the case header the workers open.
	Tool string
	// Heartbeat is the activities' heartbeat timeout; 0: DefaultHeartbeat.
	Heartbeat time.Duration
}

// RunOutput is the workflow's result.
type RunOutput struct {
	Result *runner.Result
	// Err is the run's error as text (interrupted, waiting for approval);
	// ApprovalRequired says an approve step was left waiting.
	Err              string `json:",omitempty"`
	ApprovalRequired bool   `json:",omitempty"`
	Kept             *runner.Kept
	// Events are every step event of the execution, for a follower that
	// missed the last ones.
	Events []Event
}

// Event is one step event as the workflow publishes it to followers, with
// the question of an approve step that waits.
type Event struct {
	runner.StepEvent
	Question string `json:",omitempty"`
}

// Answer is the approve signal's payload.
type Answer struct {
	Step     string
	Approve  bool
	Operator string `json:",omitempty"`
}

// CustodyEvent is a custody event the workflow made, appended by an
// activity.
type CustodyEvent struct {
	Name, Step string
	Detail     map[string]any `json:",omitempty"`
}

// CaseRef is what a worker needs to open the run's case.
type CaseRef struct {
	Evidence  string
	CaseID    string
	RunID     string
	Playbook  engine.PlaybookRef
	Tool      string
	Operator  string
	Inputs    map[string]any
	StartedAt time.Time
}

// StepRequest is one attempt of one unit (a step, or a for_each item).
type StepRequest struct {
	Case        CaseRef
	Step        string
	Action      string
	Item        int
	Params      map[string]any
	Attempt     int
	Timeout     time.Duration
	PlaybookDir string            `json:",omitempty"`
	SecretEnv   map[string]string `json:",omitempty"`
	// Events are custody events to append before the action runs.
	Events []CustodyEvent `json:",omitempty"`
	// RunLog is the run's log so far (its header, then every step event),
	// for the action that uploads it (upload-log reads
	// StepInput.RunLogPath): a Temporal run keeps no journal file.
	RunLog *RunLog `json:",omitempty"`
}

// RunLog is what a Temporal run gives upload-log in place of the local
// runner's journal: one JSON line with the run, then one per step event.
type RunLog struct {
	Run    map[string]any
	Events []Event
}

// runLogActions are the actions that read StepInput.RunLogPath.
var runLogActions = map[string]bool{"upload-log": true}

// ActionFailure is the detail of an action's error.
type ActionFailure struct {
	Text      string
	Retryable bool
}
