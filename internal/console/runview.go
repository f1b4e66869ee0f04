package console

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/engine/session"
)

// stepView is one step of a run as the run page and GET /api/runs/{id}
// show it.
type stepView struct {
	ID         string            `json:"id"`
	Action     string            `json:"action"`
	Status     engine.StepStatus `json:"status"`
	Attempts   int               `json:"attempts,omitempty"`
	Error      string            `json:"error,omitempty"`
	SkipReason string            `json:"skip_reason,omitempty"`
	Started    time.Time         `json:"started_at,omitzero"`
	Finished   time.Time         `json:"finished_at,omitzero"`
	Outputs    engine.Outputs    `json:"outputs,omitempty"`
	Needs      []string          `json:"needs,omitempty"`
	Approve    string            `json:"approve,omitempty"` // the question, for an approve step
	Finally    bool              `json:"finally,omitempty"`
	Items      int               `json:"items,omitempty"` // for_each items seen
}

// runView is one run.
type runView struct {
	ID       string           `json:"id"`
	Playbook string           `json:"playbook"`
	CaseID   string           `json:"case_id"`
	Target   string           `json:"target,omitempty"`
	Status   engine.RunStatus `json:"status"`
	Live     bool             `json:"live"`
	Started  time.Time        `json:"started_at,omitzero"`
	Steps    []*stepView      `json:"steps"`
	Pending  []question       `json:"pending_approvals"`
	Error    string           `json:"error,omitempty"`

	// For the page only.
	DAG       dag   `json:"-"`
	Gantt     gantt `json:"-"`
	CanResume bool  `json:"-"`
}

type question struct {
	Step     string    `json:"step"`
	Question string    `json:"question"`
	Since    time.Time `json:"since"`
}

var errNoRun = errors.New("no such run")

// loadRun builds the view of run id: from this console's live run (its
// feed, its approvals, its outcome once ended), else from the backend's
// record and the journal in the state dir.
func (s *Server) loadRun(ctx context.Context, id string) (*runView, error) {
	if err := runner.CheckRunID(id); err != nil {
		return nil, badRequest{err}
	}
	if tr, ok := s.runs.get(id); ok {
		return s.trackedView(tr), nil
	}
	job, status, err := s.cfg.Sessions.Backend.Load(ctx, id)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoRun
	}
	if err != nil {
		return nil, err
	}
	v := &runView{ID: id, Playbook: job.Playbook.Name, CaseID: job.CaseID, Target: job.Label, Status: status, Started: job.StartedAt}
	var pb *engine.Playbook
	if s.cfg.Sessions.Open.Playbook != nil {
		if pb, err = s.cfg.Sessions.Open.Playbook(job.Playbook.Source); err != nil {
			v.Error = fmt.Sprintf("the playbook of this run (%s) could not be loaded: %v", job.Playbook.Source, err)
		}
	}
	records := map[string]*engine.StepRecord{}
	if s.cfg.StateDir != "" {
		if rs, err := runner.LoadJournal(s.cfg.StateDir, id); err == nil {
			records = rs.Steps
		}
	}
	v.Steps = stepViews(pb, records, nil)
	v.CanResume = status == engine.RunFailed || status == engine.RunInterrupted
	v.finish(pb, s.cfg.Now())
	return v, nil
}

func (s *Server) trackedView(tr *tracked) *runView {
	r := tr.run
	v := &runView{ID: r.ID, Playbook: r.Playbook.Name, CaseID: r.CaseID, Target: r.Label, Started: tr.started,
		Status: engine.RunRunning, Live: true}
	records := map[string]*engine.StepRecord{}
	select {
	case <-r.Done():
		out := r.Wait()
		v.Live, v.Status = false, out.Status
		if out.Result != nil {
			for i := range out.Result.Steps {
				records[out.Result.Steps[i].ID] = &out.Result.Steps[i]
			}
		}
		if out.Err != nil {
			v.Error = out.Err.Error()
		}
		v.CanResume = out.Status == engine.RunFailed || out.Status == engine.RunInterrupted
	default:
		for _, q := range tr.approvals.Pending() {
			v.Pending = append(v.Pending, question{Step: q.Step, Question: q.Question, Since: q.Since})
		}
	}
	v.Steps = stepViews(r.Playbook, records, r.Steps())
	v.finish(r.Playbook, time.Now())
	return v
}

// stepViews lists pb's steps (main, then finally) with what the records
// and the live events say of each; a step not yet seen is pending.
func stepViews(pb *engine.Playbook, records map[string]*engine.StepRecord, events []runner.StepEvent) []*stepView {
	var out []*stepView
	byID := map[string]*stepView{}
	add := func(id string) *stepView {
		if sv, ok := byID[id]; ok {
			return sv
		}
		sv := &stepView{ID: id, Status: engine.StatusPending}
		byID[id] = sv
		out = append(out, sv)
		return sv
	}
	if pb != nil {
		for _, st := range pb.AllSteps() {
			sv := add(st.ID)
			sv.Action, sv.Needs, sv.Approve, sv.Finally = st.Action, st.Needs, st.Approve, st.Finally
		}
	}
	for _, ev := range events {
		sv := add(ev.Step)
		if ev.Item >= 0 {
			sv.Items = max(sv.Items, ev.Item+1)
			continue
		}
		sv.Action = ev.Action
		sv.Status, sv.Attempts, sv.Error, sv.SkipReason = ev.Status, ev.Attempt, ev.Error, ev.SkipReason
		if ev.Status == engine.StatusRunning && sv.Started.IsZero() {
			sv.Started = ev.Time
		}
		if ev.Duration > 0 {
			sv.Finished = ev.Time
			if sv.Started.IsZero() {
				sv.Started = ev.Time.Add(-ev.Duration)
			}
		}
	}
	for id, rec := range records {
		sv := add(id)
		sv.Action, sv.Status, sv.Attempts, sv.Error, sv.SkipReason, sv.Outputs = rec.Action, rec.Status, rec.Attempts, rec.Error, rec.SkipReason, rec.Outputs
		if rec.StartedAt != nil {
			sv.Started = *rec.StartedAt
		}
		if rec.FinishedAt != nil {
			sv.Finished = *rec.FinishedAt
		}
		if len(rec.Items) > 0 {
			sv.Items = len(rec.Items)
		}
	}
	return out
}

// finish lays out the DAG and the Gantt chart.
func (v *runView) finish(pb *engine.Playbook, now time.Time) {
	v.DAG = layoutDAG(pb, v.Steps)
	v.Gantt = layoutGantt(v.Steps, now)
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request, c caller) {
	v, err := s.loadRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.runError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "run", c, v)
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request, _ caller) {
	v, err := s.loadRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.runError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) runError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errNoRun):
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no run %q", r.PathValue("id")))
	case errors.As(err, new(badRequest)):
		s.fail(w, r, http.StatusBadRequest, err.Error())
	default:
		s.fail(w, r, http.StatusInternalServerError, err.Error())
	}
}

// answer answers step's question in run id: yes approves, no declines.
func (s *Server) answer(id, step string, yes bool) error {
	tr, ok := s.runs.get(id)
	if !ok {
		return badRequest{fmt.Errorf("run %q was not started by this console, or has ended: approve it with `firebreak resume %s`", id, id)}
	}
	if err := tr.approvals.Answer(step, yes); err != nil {
		return badRequest{err}
	}
	verb := "approved"
	if !yes {
		verb = "declined"
	}
	s.cfg.Logger.Info("approval answered from the console", "run", id, "step", step, "answer", verb)
	return nil
}

type approveRequest struct {
	Step    string `json:"step"`
	Decline bool   `json:"decline"`
}

func (s *Server) apiApprove(w http.ResponseWriter, r *http.Request, _ caller) {
	var req approveRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.answer(r.PathValue("id"), req.Step, !req.Decline); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"step": req.Step, "approved": !req.Decline})
}

// formApprove is the Approve / Decline buttons of the run page.
func (s *Server) formApprove(w http.ResponseWriter, r *http.Request, _ caller) {
	id := r.PathValue("id")
	if err := s.answer(id, r.PostFormValue("step"), r.PostFormValue("answer") == "approve"); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	http.Redirect(w, r, "/runs/"+id, http.StatusSeeOther)
}

// resume continues a failed or interrupted run through the session.
func (s *Server) resume(ctx context.Context, id string) (*session.Run, error) {
	if _, live := s.cfg.Sessions.Live(id); live {
		return nil, badRequest{fmt.Errorf("run %q is going on", id)}
	}
	req, err := s.cfg.Sessions.ResumeRequest(ctx, id)
	if err != nil {
		return nil, badRequest{err}
	}
	appr := session.NewApprovals()
	req.Approver = appr
	if s.cfg.Operator != nil {
		req.Operator = s.cfg.Operator(s.ctx)
	}
	if s.cfg.Signer != nil && req.SignKey == s.cfg.SignKey {
		req.Signer = s.cfg.Signer
	}
	run, err := s.cfg.Sessions.Resume(s.ctx, req)
	if err != nil {
		return nil, err
	}
	s.runs.add(&tracked{run: run, approvals: appr, started: req.StartedAt})
	return run, nil
}

func (s *Server) apiResume(w http.ResponseWriter, r *http.Request, _ caller) {
	run, err := s.resume(r.Context(), r.PathValue("id"))
	if err != nil {
		s.runError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, startedRun{RunID: run.ID, CaseID: run.CaseID})
}

func (s *Server) formResume(w http.ResponseWriter, r *http.Request, _ caller) {
	run, err := s.resume(r.Context(), r.PathValue("id"))
	if err != nil {
		s.runError(w, r, err)
		return
	}
	http.Redirect(w, r, "/runs/"+run.ID, http.StatusSeeOther)
}
