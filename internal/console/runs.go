package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/session"
	"github.com/firebreak-ir/firebreak/findings"
)

// runTracker holds the runs this console started, with the Approvals
// their approve steps wait on, until the process ends.
type runTracker struct {
	mu   sync.Mutex
	runs map[string]*tracked
}

type tracked struct {
	run       *session.Run
	approvals *session.Approvals
	started   time.Time
	finding   string // the finding id it was started for, if any
}

func newRunTracker() *runTracker { return &runTracker{runs: map[string]*tracked{}} }

func (t *runTracker) add(tr *tracked) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.runs[tr.run.ID] = tr
}

func (t *runTracker) get(id string) (*tracked, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.runs[id]
	return tr, ok
}

// startRequest is POST /api/runs: a playbook by name, its inputs, and
// optionally targets, one run each (the input marked target: true).
type startRequest struct {
	Playbook string         `json:"playbook"`
	Inputs   map[string]any `json:"inputs"`
	Targets  []string       `json:"targets,omitempty"`
}

// startedRun is one run started: its ids and, with targets, its target.
type startedRun struct {
	RunID  string `json:"run_id"`
	CaseID string `json:"case_id"`
	Target string `json:"target,omitempty"`
}

// maxTargets bounds the runs one request starts.
const maxTargets = 100

// badRequest is a start refused for what was asked (400).
type badRequest struct{ error }

// findPlaybook looks a playbook up by name only: a path would let a
// request load any file the server can read.
func (s *Server) findPlaybook(name string) (*engine.Playbook, error) {
	if name == "" {
		return nil, badRequest{errors.New("no playbook named")}
	}
	if loader.IsFile(name) || strings.ContainsAny(name, `/\`) {
		return nil, badRequest{fmt.Errorf("playbook %q: name a playbook, not a file", name)}
	}
	pb, err := s.cfg.Catalog.Find(name)
	if err != nil {
		return nil, badRequest{err}
	}
	return pb, nil
}

// start starts the runs req asks for, through the session.
func (s *Server) start(ctx context.Context, req startRequest, f *findings.Finding) ([]startedRun, error) {
	pb, err := s.findPlaybook(req.Playbook)
	if err != nil {
		return nil, err
	}
	given := []map[string]any{req.Inputs}
	labels := []string{""}
	if len(req.Targets) > 0 {
		if len(req.Targets) > maxTargets {
			return nil, badRequest{fmt.Errorf("%d targets: at most %d at once", len(req.Targets), maxTargets)}
		}
		in, ok := targetInput(pb)
		if !ok {
			return nil, badRequest{fmt.Errorf("playbook %q has no input marked target: true to take targets", pb.Name)}
		}
		given, labels = nil, nil
		for _, t := range req.Targets {
			given = append(given, s.targetGiven(pb, in, req.Inputs, t))
			labels = append(labels, t)
		}
	}
	resolved := make([]map[string]any, len(given))
	for i, g := range given {
		if g == nil {
			g = map[string]any{}
		}
		in, err := loader.ResolveInputs(pb, g, f.Env())
		if err != nil {
			return nil, badRequest{err}
		}
		resolved[i] = in
	}
	var out []startedRun
	for i, in := range resolved {
		r, err := s.launch(ctx, pb, in, f, labels[i])
		if err != nil {
			return out, err
		}
		out = append(out, startedRun{RunID: r.ID, CaseID: r.CaseID, Target: labels[i]})
	}
	return out, nil
}

func targetInput(pb *engine.Playbook) (*engine.Input, bool) {
	for _, in := range pb.Inputs {
		if in.Target {
			return in, true
		}
	}
	return nil, false
}

// launch starts one run through the session. The run lives as long as the
// server's context, not the request's.
func (s *Server) launch(_ context.Context, pb *engine.Playbook, inputs map[string]any, f *findings.Finding, label string) (*session.Run, error) {
	appr := session.NewApprovals()
	req := &session.Request{Playbook: pb, Inputs: inputs, Evidence: s.cfg.Evidence, SignKey: s.cfg.SignKey,
		Signer: s.cfg.Signer, Approver: appr, Label: label}
	if f != nil {
		req.Finding = f.ForRun()
	}
	if s.cfg.Operator != nil {
		req.Operator = s.cfg.Operator(s.ctx)
	}
	run, err := s.cfg.Sessions.Start(s.ctx, req)
	if err != nil {
		return nil, err
	}
	tr := &tracked{run: run, approvals: appr, started: req.StartedAt}
	if f != nil {
		tr.finding = f.ID()
	}
	s.runs.add(tr)
	s.cfg.Logger.Info("run started from the console", "run", run.ID, "case", run.CaseID, "playbook", pb.Name, "target", label)
	return run, nil
}

func (s *Server) apiStartRun(w http.ResponseWriter, r *http.Request, _ caller) {
	var req startRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.start(r.Context(), req, nil)
	if err != nil {
		s.startFailed(w, r, out, err)
		return
	}
	if len(req.Targets) == 0 {
		writeJSON(w, http.StatusCreated, out[0])
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"runs": out})
}

func (s *Server) startFailed(w http.ResponseWriter, r *http.Request, out []startedRun, err error) {
	code := http.StatusInternalServerError
	if _, ok := errors.AsType[badRequest](err); ok {
		code = http.StatusBadRequest
	}
	msg := err.Error()
	if len(out) > 0 {
		msg = fmt.Sprintf("%d runs started (%s), then: %s", len(out), out[len(out)-1].RunID, msg)
	}
	s.fail(w, r, code, msg)
}

// formStartRun is the confirm form of a plan page: playbook, targets (one
// a line) and inputs as input.NAME fields.
func (s *Server) formStartRun(w http.ResponseWriter, r *http.Request, _ caller) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	req := startRequest{Playbook: r.PostForm.Get("playbook"), Inputs: map[string]any{}}
	for k, v := range r.PostForm {
		if name, ok := strings.CutPrefix(k, "input."); ok && len(v) > 0 && v[0] != "" {
			req.Inputs[name] = v[0]
		}
	}
	req.Targets = append(req.Targets, strings.Fields(r.PostForm.Get("targets"))...)
	out, err := s.start(r.Context(), req, nil)
	if err != nil {
		s.startFailed(w, r, out, err)
		return
	}
	if len(out) == 1 {
		http.Redirect(w, r, "/runs/"+out[0].RunID, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/runs", http.StatusSeeOther)
}

// runRow is one run in the list.
type runRow struct {
	ID       string        `json:"id"`
	Playbook string        `json:"playbook"`
	CaseID   string        `json:"case_id"`
	Status   string        `json:"status"`
	Started  time.Time     `json:"started_at"`
	Duration time.Duration `json:"duration_ns"`
	Target   string        `json:"target,omitempty"`
	Pending  int           `json:"pending_approvals"`
	Error    string        `json:"error,omitempty"`
}

// listRuns is the backend's runs, newest first, with what this console
// knows of the live ones (their pending approvals).
func (s *Server) listRuns(ctx context.Context) ([]runRow, error) {
	infos, err := s.cfg.Sessions.Runs(ctx)
	rows := make([]runRow, 0, len(infos))
	for _, in := range infos {
		row := runRow{ID: in.ID, Playbook: in.Playbook.Name, CaseID: in.CaseID, Status: string(in.Status),
			Started: in.StartedAt, Duration: in.Duration, Target: in.Target}
		if in.Err != nil {
			row.Error = in.Err.Error()
		}
		if tr, ok := s.runs.get(in.ID); ok {
			row.Pending = len(tr.approvals.Pending())
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Started.After(rows[j].Started) })
	return rows, err
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request, _ caller) {
	rows, err := s.listRuns(r.Context())
	if err != nil && len(rows) == 0 {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

type runsPage struct {
	Runs  []runRow
	Error string
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request, c caller) {
	rows, err := s.listRuns(r.Context())
	p := runsPage{Runs: rows}
	if err != nil {
		p.Error = err.Error()
	}
	s.render(w, r, http.StatusOK, "runs", c, p)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, c caller) {
	s.runsPage(w, r, c)
}

// playbookRow is one playbook of the catalogue.
type playbookRow struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Incident    string   `json:"incident"`
	Description string   `json:"description"`
	Findings    []string `json:"findings,omitempty"`
	Auto        bool     `json:"auto,omitempty"`
	Source      string   `json:"source"`
	Error       string   `json:"error,omitempty"`
}

func (s *Server) playbookRows() ([]playbookRow, error) {
	entries, err := s.cfg.Catalog.List()
	rows := make([]playbookRow, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, playbookRow{Name: e.Name, Version: e.Version, Incident: e.Incident,
			Description: e.Description, Findings: e.Findings, Auto: e.Auto, Source: e.Source})
	}
	return rows, err
}

func (s *Server) apiPlaybooks(w http.ResponseWriter, r *http.Request, _ caller) {
	rows, err := s.playbookRows()
	if err != nil && len(rows) == 0 {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

type playbooksPage struct {
	Playbooks []playbookRow
	Error     string
}

func (s *Server) playbooksPage(w http.ResponseWriter, r *http.Request, c caller) {
	rows, err := s.playbookRows()
	p := playbooksPage{Playbooks: rows}
	if err != nil {
		p.Error = err.Error()
	}
	s.render(w, r, http.StatusOK, "playbooks", c, p)
}

func (s *Server) apiWhoami(w http.ResponseWriter, _ *http.Request, c caller) {
	writeJSON(w, http.StatusOK, map[string]string{"role": c.role.String()})
}

func (s *Server) casesPage(w http.ResponseWriter, r *http.Request, c caller) {
	rows, err := s.listRuns(r.Context())
	p := runsPage{Runs: rows}
	if err != nil {
		p.Error = err.Error()
	}
	s.render(w, r, http.StatusOK, "cases", c, p)
}
