package temporalrun

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// WorkerOptions configure a worker.
type WorkerOptions struct {
	TaskQueue string // "": DefaultTaskQueue
	// MaxConcurrent bounds the steps this worker runs at once (0: the
	// SDK's default).
	MaxConcurrent int
}

// NewWorker makes a worker serving the run workflow and the step
// activities of acts on c's namespace; the caller runs and stops it.
func NewWorker(c client.Client, acts *Activities, o WorkerOptions) worker.Worker {
	q := o.TaskQueue
	if q == "" {
		q = DefaultTaskQueue
	}
	w := worker.New(c, q, worker.Options{MaxConcurrentActivityExecutionSize: o.MaxConcurrent})
	w.RegisterWorkflowWithOptions((&Workflow{Registry: acts.Registry}).Run, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterActivityWithOptions(acts.Step, activity.RegisterOptions{Name: StepActivity})
	w.RegisterActivityWithOptions(acts.Events, activity.RegisterOptions{Name: EventsActivity})
	return w
}
