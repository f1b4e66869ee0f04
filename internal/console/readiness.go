package console

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/firebreak-ir/firebreak/assess"
)

// readiness runs the assess checks on demand and keeps the last report:
// a run reads the whole account, so a page shows the last one until asked
// again. One run at a time.
type readiness struct {
	run func(ctx context.Context) (*assess.Report, error)

	mu      sync.Mutex
	report  *assess.Report
	at      time.Time
	took    time.Duration
	err     error
	running chan struct{}
}

var errNoAssess = errors.New("readiness needs AWS: serve was started without an AWS set-up")

func (rd *readiness) get(ctx context.Context, refresh bool, now func() time.Time) (*assess.Report, time.Time, time.Duration, error) {
	if rd.run == nil {
		return nil, time.Time{}, 0, errNoAssess
	}
	rd.mu.Lock()
	if !refresh && rd.report != nil {
		defer rd.mu.Unlock()
		return rd.report, rd.at, rd.took, nil
	}
	wait := rd.running
	if wait == nil {
		rd.running = make(chan struct{})
		wait = rd.running
		go func() {
			start := now()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
			defer cancel()
			rep, err := rd.run(rctx)
			rd.mu.Lock()
			defer rd.mu.Unlock()
			if err == nil {
				rd.report, rd.at, rd.took = rep, now(), now().Sub(start)
			}
			rd.err = err
			close(rd.running)
			rd.running = nil
		}()
	}
	rd.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, time.Time{}, 0, ctx.Err()
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.err != nil {
		return nil, time.Time{}, 0, rd.err
	}
	return rd.report, rd.at, rd.took, nil
}

type familyView struct {
	Family  string
	Results []assess.Result
	Fail    int
}

type readinessPage struct {
	Error            string
	At               time.Time
	Took             time.Duration
	Summary          assess.Summary
	Regions          []string
	Families         []familyView
	Severity, Status string
}

func (s *Server) readinessPage(w http.ResponseWriter, r *http.Request, c caller) {
	q := r.URL.Query()
	p := readinessPage{Severity: q.Get("severity"), Status: q.Get("status")}
	rep, at, took, err := s.ready.get(r.Context(), q.Get("refresh") != "", s.cfg.Now)
	if err != nil {
		p.Error = err.Error()
		s.render(w, r, http.StatusOK, "readiness", c, p)
		return
	}
	p.At, p.Took, p.Summary, p.Regions = at, took, rep.Summary, rep.Regions
	byFamily := map[string]*familyView{}
	for _, res := range rep.Results {
		if (p.Severity != "" && string(res.Severity) != p.Severity) || (p.Status != "" && string(res.Status) != p.Status) {
			continue
		}
		f, ok := byFamily[res.Family]
		if !ok {
			f = &familyView{Family: res.Family}
			byFamily[res.Family] = f
		}
		f.Results = append(f.Results, res)
		if res.Status == assess.Fail {
			f.Fail++
		}
	}
	for _, f := range byFamily {
		p.Families = append(p.Families, *f)
	}
	sort.Slice(p.Families, func(i, j int) bool { return p.Families[i].Family < p.Families[j].Family })
	s.render(w, r, http.StatusOK, "readiness", c, p)
}

func (s *Server) apiAssess(w http.ResponseWriter, r *http.Request, _ caller) {
	rep, _, _, err := s.ready.get(r.Context(), r.URL.Query().Get("refresh") != "", s.cfg.Now)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
