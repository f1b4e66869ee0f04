package temporalrun

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
)

// Backend runs a session's runs as workflows on a Temporal cluster. Its
// steps run on workers (NewWorker), not in this process.
type Backend struct {
	Client    client.Client
	TaskQueue string // "": DefaultTaskQueue
	// Tool names the build in the case header the workers open.
	Tool string
	// Heartbeat is the activities' heartbeat timeout; 0: DefaultHeartbeat.
	Heartbeat time.Duration
	// Poll is how often a follower asks the workflow for new events; 0:
	// 250ms.
	Poll time.Duration
}

var _ session.Backend = (*Backend)(nil)

// InProcess is false: workers open the case themselves.
func (b *Backend) InProcess() bool { return false }

// Record keeps nothing here: the workflow's input is the run's record,
// kept by the cluster (Load reads it back).
func (b *Backend) Record(context.Context, *session.Job) error { return nil }

// Run starts the run's workflow (its id is the run id) and follows it to
// its end; cancelling ctx cancels the workflow, which interrupts the run
// as Ctrl-C does a local one.
func (b *Backend) Run(ctx context.Context, job *session.Job, pb *engine.Playbook, h session.Hooks) (*runner.Result, error) {
	return b.start(ctx, job, pb, h, nil)
}

// Resume follows the run's workflow when it is still going; otherwise it
// starts it again with what its last execution kept: steps that succeeded
// keep their outputs and are not run again.
func (b *Backend) Resume(ctx context.Context, job *session.Job, pb *engine.Playbook, h session.Hooks) (*runner.Result, error) {
	d, err := b.Client.DescribeWorkflow(ctx, job.RunID, "")
	if err != nil {
		return nil, fmt.Errorf("run %q on temporal: %w", job.RunID, err)
	}
	info := d.RawResponse.GetWorkflowExecutionInfo()
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return b.follow(ctx, b.Client.GetWorkflow(ctx, job.RunID, info.GetExecution().GetRunId()), h)
	}
	var prev RunOutput
	if err := b.Client.GetWorkflow(ctx, job.RunID, "").Get(ctx, &prev); err != nil {
		return nil, fmt.Errorf("run %q: its last execution left no result to resume from: %w", job.RunID, err)
	}
	return b.start(ctx, job, pb, h, prev.Kept)
}

func (b *Backend) queue() string {
	if b.TaskQueue == "" {
		return DefaultTaskQueue
	}
	return b.TaskQueue
}

func (b *Backend) start(ctx context.Context, job *session.Job, pb *engine.Playbook, h session.Hooks, kept *runner.Kept) (*runner.Result, error) {
	if len(pb.Raw) == 0 {
		return nil, errors.New("temporal: the playbook's bytes are not known (load it with the loader)")
	}
	in := RunInput{Job: *job, Playbook: pb.Raw, Kept: kept, Resume: kept != nil, Tool: b.Tool, Heartbeat: b.Heartbeat}
	in.Job.Playbook = pb.Ref()
	opts := client.StartWorkflowOptions{ID: job.RunID, TaskQueue: b.queue(),
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		Memo: map[string]any{"case_id": job.CaseID, "playbook": pb.Name, "evidence": job.Evidence,
			"target": job.Label, "started_at": job.StartedAt.UTC().Format(time.RFC3339Nano)}}
	run, err := b.Client.ExecuteWorkflow(ctx, opts, WorkflowName, in)
	if err != nil {
		return nil, fmt.Errorf("starting run %q on temporal: %w", job.RunID, err)
	}
	return b.follow(ctx, run, h)
}

// follow shows the workflow's events through h.Observer, asks h.Approver
// the questions of approve steps and signals the answers, and returns the
// run's result when the workflow ends.
func (b *Backend) follow(ctx context.Context, run client.WorkflowRun, h session.Hooks) (*runner.Result, error) {
	id, rid := run.GetID(), run.GetRunID()
	type got struct {
		out RunOutput
		err error
	}
	end := make(chan got, 1)
	go func() {
		var g got
		g.err = run.Get(context.WithoutCancel(ctx), &g.out)
		end <- g
	}()
	poll := b.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	tk := time.NewTicker(poll)
	defer tk.Stop()
	var (
		seen  int
		asked = map[string]bool{}
		askMu sync.Mutex // one question at a time, as the local runner asks
		done  = ctx.Done()
	)
	actx, acancel := context.WithCancel(context.WithoutCancel(ctx))
	defer acancel()
	publish := func(evs []Event) {
		for _, ev := range evs {
			seen++
			if h.Observer != nil {
				h.Observer(ev.StepEvent)
			}
			if ev.Status == engine.StatusWaiting && h.Approver != nil && !asked[ev.Step] {
				asked[ev.Step] = true
				step, q := ev.Step, ev.Question
				go func() {
					askMu.Lock()
					ok, err := h.Approver.Approve(ctx, step, q)
					askMu.Unlock()
					if err != nil {
						return // no answer: the step waits (answer it with firebreak approve)
					}
					_ = b.Client.SignalWorkflow(actx, id, rid, ApproveSignal, Answer{Step: step, Approve: ok})
				}()
			}
		}
	}
	for {
		select {
		case g := <-end:
			if g.err != nil {
				return nil, fmt.Errorf("run %q on temporal: %w", id, g.err)
			}
			if seen < len(g.out.Events) {
				publish(g.out.Events[seen:])
			}
			return resultOf(&g.out)
		case <-done:
			done = nil
			// Interrupt the run as Ctrl-C does a local one: the workflow
			// starts nothing more, cancels what runs, runs finally.
			_ = b.Client.CancelWorkflow(context.WithoutCancel(ctx), id, rid)
		case <-tk.C:
			v, err := b.Client.QueryWorkflow(context.WithoutCancel(ctx), id, rid, EventsQuery, seen)
			if err != nil {
				continue // no worker yet, or the workflow just ended: the result gives the rest
			}
			var evs []Event
			if v.Get(&evs) == nil {
				publish(evs)
			}
		}
	}
}

func resultOf(out *RunOutput) (*runner.Result, error) {
	if out.Err == "" {
		return out.Result, nil
	}
	if out.ApprovalRequired {
		return out.Result, fmt.Errorf("%s: %w: %w", out.Err, engine.ErrApprovalRequired, engine.ErrInterrupted)
	}
	if out.Result != nil && out.Result.Status == engine.RunInterrupted {
		return out.Result, fmt.Errorf("%s: %w", out.Err, engine.ErrInterrupted)
	}
	return out.Result, errors.New(out.Err)
}

// Approve answers approve step step of run runID: yes, or no.
func (b *Backend) Approve(ctx context.Context, runID, step string, yes bool, operator string) error {
	var evs []Event
	v, err := b.Client.QueryWorkflow(ctx, runID, "", EventsQuery, 0)
	if err != nil {
		return fmt.Errorf("run %q on temporal: %w", runID, err)
	}
	if err := v.Get(&evs); err != nil {
		return err
	}
	waiting := false
	for _, ev := range evs {
		if ev.Step == step && ev.Item < 0 {
			waiting = ev.Status == engine.StatusWaiting
		}
	}
	if !waiting {
		return fmt.Errorf("run %q: step %q is not waiting for approval", runID, step)
	}
	return b.Client.SignalWorkflow(ctx, runID, "", ApproveSignal, Answer{Step: step, Approve: yes, Operator: operator})
}

// Runs lists the runs' workflows, oldest first.
func (b *Backend) Runs(ctx context.Context) ([]engine.RunInfo, error) {
	var out []engine.RunInfo
	seen := map[string]bool{}
	var token []byte
	for {
		resp, err := b.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = '%s'", WorkflowName), NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("listing runs on temporal: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			if seen[id] { // the newest execution of a run says its state
				continue
			}
			seen[id] = true
			info := engine.RunInfo{ID: id, Status: statusOf(e.GetStatus())}
			memo := decodeMemo(e.GetMemo())
			info.CaseID, info.Playbook.Name, info.Evidence, info.Target = memo["case_id"], memo["playbook"], memo["evidence"], memo["target"]
			info.StartedAt, _ = time.Parse(time.RFC3339Nano, memo["started_at"])
			if info.Status == "" {
				info.Status = b.closedStatus(ctx, id)
			}
			if e.GetCloseTime() != nil && !info.StartedAt.IsZero() {
				info.Duration = e.GetCloseTime().AsTime().Sub(info.StartedAt)
			}
			out = append(out, info)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartedAt.Before(out[j].StartedAt) })
	return out, nil
}

// statusOf is the run status a workflow's status tells, or "" when its
// result says (it completed).
func statusOf(s enumspb.WorkflowExecutionStatus) engine.RunStatus {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return engine.RunRunning
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return ""
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return engine.RunInterrupted
	default:
		return engine.RunFailed
	}
}

func (b *Backend) closedStatus(ctx context.Context, id string) engine.RunStatus {
	var out RunOutput
	if err := b.Client.GetWorkflow(ctx, id, "").Get(ctx, &out); err != nil || out.Result == nil {
		return engine.RunFailed
	}
	return out.Result.Status
}

// Load reads the job run runID started with from its workflow's first
// event, and its status.
func (b *Backend) Load(ctx context.Context, runID string) (*session.Job, engine.RunStatus, error) {
	d, err := b.Client.DescribeWorkflow(ctx, runID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, "", fmt.Errorf("run %q on temporal: %w", runID, fs.ErrNotExist)
	}
	if err != nil {
		return nil, "", fmt.Errorf("run %q on temporal: %w", runID, err)
	}
	desc := d.RawResponse
	it := b.Client.GetWorkflowHistory(ctx, runID, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return nil, "", fmt.Errorf("run %q on temporal: no history", runID)
	}
	ev, err := it.Next()
	if err != nil {
		return nil, "", fmt.Errorf("run %q on temporal: %w", runID, err)
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil {
		return nil, "", fmt.Errorf("run %q on temporal: its history does not start with its input", runID)
	}
	var in RunInput
	if err := converter.GetDefaultDataConverter().FromPayloads(attrs.GetInput(), &in); err != nil {
		return nil, "", fmt.Errorf("run %q on temporal: its input: %w", runID, err)
	}
	status := statusOf(desc.GetWorkflowExecutionInfo().GetStatus())
	if status == "" {
		status = b.closedStatus(ctx, runID)
	}
	job := in.Job
	return &job, status, nil
}

func decodeMemo(m *commonpb.Memo) map[string]string {
	out := map[string]string{}
	dc := converter.GetDefaultDataConverter()
	for k, p := range m.GetFields() {
		var s string
		if dc.FromPayload(p, &s) == nil {
			out[k] = s
		}
	}
	return out
}
