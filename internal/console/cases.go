package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/actions/analysis"
	"github.com/firebreak-ir/firebreak/actions/ec2"
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// maxTimelineRows bounds the timeline rows a case page shows; the filter
// narrows them.
const maxTimelineRows = 1000

// caseView is one case: its manifest, custody chain and what its analysis
// steps found.
type caseView struct {
	ID        string             `json:"case_id"`
	Where     string             `json:"where"`
	Manifest  *evidence.Manifest `json:"manifest,omitempty"`
	Custody   []evidence.Entry   `json:"custody"`
	Timelines []timelineView     `json:"-"`
	Yara      []yaraView         `json:"-"`
	Related   []relatedView      `json:"-"`
	Verify    *evidence.Report   `json:"-"`
	Errors    []string           `json:"errors,omitempty"`
	TFilter   timelineFilter     `json:"-"`
	Playbooks []playbookRow      `json:"-"`
	Artifacts []engine.Artifact  `json:"-"`
	Snapshots []engine.Artifact  `json:"-"`
}

type timelineView struct {
	Artifact  string
	Entries   []analysis.TimelineEntry
	Total     int // entries that pass the filter
	Deleted   int
	Truncated bool
}

type timelineFilter struct {
	From, To, Path string
	DeletedOnly    bool
}

func (f timelineFilter) match(e analysis.TimelineEntry) bool {
	if f.DeletedOnly && !e.Deleted {
		return false
	}
	if f.Path != "" && !strings.Contains(strings.ToLower(e.Path), strings.ToLower(f.Path)) {
		return false
	}
	// RFC 3339 in UTC compares as text; a prefix ("2020-10-27") bounds by day.
	if f.From != "" && e.Time < f.From {
		return false
	}
	if f.To != "" && e.Time > f.To && !strings.HasPrefix(e.Time, f.To) {
		return false
	}
	return true
}

type yaraView struct {
	Artifact string
	Report   analysis.YaraReport
}

type relatedView struct {
	Artifact   string
	InstanceID string
	Related    []ec2.RelatedInstance
}

// caseStore finds where case id is kept: the location of the run that
// made it, else the console's evidence location.
func (s *Server) caseStore(ctx context.Context, id string) (evidence.Store, evidence.Location, error) {
	loc := s.cfg.Evidence
	if runs, _ := s.cfg.Sessions.Runs(ctx); runs != nil {
		for _, r := range runs {
			if r.CaseID == id && r.Evidence != "" && r.Batch == "" {
				if l, err := evidence.ParseLocation(r.Evidence); err == nil {
					loc = l
				}
			}
		}
	}
	open := s.cfg.OpenStore
	if open == nil {
		open = evidence.NewSchemes().OpenLocation
	}
	st, err := open(ctx, loc)
	return st, loc, err
}

func (s *Server) loadCase(ctx context.Context, id string, tf timelineFilter) (*caseView, evidence.Store, error) {
	if err := evidence.CheckCaseID(id); err != nil {
		return nil, nil, badRequest{err}
	}
	st, loc, err := s.caseStore(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	v := &caseView{ID: id, Where: loc.Where(id), TFilter: tf, Custody: []evidence.Entry{}}
	custody, err := readCustody(ctx, st, id)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, errNoCase
	}
	if err != nil {
		v.Errors = append(v.Errors, err.Error())
	}
	v.Custody = custody
	if m, err := readJSON[evidence.Manifest](ctx, st, id+"/manifest.json"); err == nil {
		v.Manifest = m
	} else if !errors.Is(err, fs.ErrNotExist) {
		v.Errors = append(v.Errors, "manifest: "+err.Error())
	}
	for _, a := range v.artifacts() {
		if a.SHA256 == "" && a.Source["snapshot_id"] != "" {
			v.Snapshots = append(v.Snapshots, a)
			continue
		}
		v.Artifacts = append(v.Artifacts, a)
		key := id + "/" + a.ID
		switch a.Kind {
		case "timeline":
			tv, err := readTimeline(ctx, st, key, tf)
			if err != nil {
				v.Errors = append(v.Errors, fmt.Sprintf("timeline %s: %v", a.ID, err))
				continue
			}
			tv.Artifact = a.ID
			v.Timelines = append(v.Timelines, tv)
		case "yara-matches":
			rep, err := readJSON[analysis.YaraReport](ctx, st, key)
			if err != nil {
				v.Errors = append(v.Errors, fmt.Sprintf("YARA report %s: %v", a.ID, err))
				continue
			}
			v.Yara = append(v.Yara, yaraView{Artifact: a.ID, Report: *rep})
		case "related-instances":
			rel, err := readJSON[struct {
				InstanceID string                `json:"instance_id"`
				Related    []ec2.RelatedInstance `json:"related"`
			}](ctx, st, key)
			if err != nil {
				v.Errors = append(v.Errors, fmt.Sprintf("related instances %s: %v", a.ID, err))
				continue
			}
			v.Related = append(v.Related, relatedView{Artifact: a.ID, InstanceID: rel.InstanceID, Related: rel.Related})
		}
	}
	return v, st, nil
}

var errNoCase = errors.New("no such case")

// artifacts are the manifest's, or, for a case not sealed yet, those its
// custody log recorded so far.
func (v *caseView) artifacts() []engine.Artifact {
	if v.Manifest != nil {
		return v.Manifest.Artifacts
	}
	var out []engine.Artifact
	for _, e := range v.Custody {
		if e.Artifact != nil && e.Event == evidence.EventArtifactStored {
			out = append(out, engine.Artifact{ID: e.Artifact.ID, Step: e.Step, URI: e.Artifact.URI, SHA256: e.Artifact.SHA256})
		}
	}
	return out
}

func readCustody(ctx context.Context, st evidence.Store, id string) ([]evidence.Entry, error) {
	rc, err := st.Open(ctx, id+"/custody.jsonl")
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out []evidence.Entry
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var e evidence.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, fmt.Errorf("custody line %d: %v", len(out)+1, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

func readJSON[T any](ctx context.Context, st evidence.Store, key string) (*T, error) {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var v T
	if err := json.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

// readTimeline streams timeline.jsonl, keeping the first rows that pass
// the filter and counting the rest.
func readTimeline(ctx context.Context, st evidence.Store, key string, f timelineFilter) (timelineView, error) {
	var tv timelineView
	rc, err := st.Open(ctx, key)
	if err != nil {
		return tv, err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e analysis.TimelineEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return tv, fmt.Errorf("line %d: %v", tv.Total+1, err)
		}
		if !f.match(e) {
			continue
		}
		tv.Total++
		if e.Deleted {
			tv.Deleted++
		}
		if len(tv.Entries) < maxTimelineRows {
			tv.Entries = append(tv.Entries, e)
		} else {
			tv.Truncated = true
		}
	}
	return tv, sc.Err()
}

func timelineFilterOf(r *http.Request) timelineFilter {
	q := r.URL.Query()
	return timelineFilter{From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
		Path: strings.TrimSpace(q.Get("path")), DeletedOnly: q.Get("deleted") != ""}
}

func (s *Server) caseError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errNoCase):
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no case %q in the evidence store", r.PathValue("id")))
	case errors.As(err, new(badRequest)):
		s.fail(w, r, http.StatusBadRequest, err.Error())
	default:
		s.fail(w, r, http.StatusInternalServerError, err.Error())
	}
}

func (s *Server) casePage(w http.ResponseWriter, r *http.Request, c caller) {
	v, _, err := s.loadCase(r.Context(), r.PathValue("id"), timelineFilterOf(r))
	if err != nil {
		s.caseError(w, r, err)
		return
	}
	v.Playbooks = s.targetPlaybooks()
	s.render(w, r, http.StatusOK, "case", c, v)
}

func (s *Server) apiCase(w http.ResponseWriter, r *http.Request, _ caller) {
	v, _, err := s.loadCase(r.Context(), r.PathValue("id"), timelineFilter{})
	if err != nil {
		s.caseError(w, r, err)
		return
	}
	out := map[string]any{"case_id": v.ID, "where": v.Where, "manifest": v.Manifest, "custody": v.Custody, "errors": v.Errors}
	var tl []map[string]any
	for _, t := range v.Timelines {
		tl = append(tl, map[string]any{"artifact": t.Artifact, "entries": t.Total, "deleted": t.Deleted})
	}
	out["timelines"], out["yara"], out["related"] = tl, v.Yara, v.Related
	writeJSON(w, http.StatusOK, out)
}

// verify runs evidence.Verify on the case: every artifact re-read and
// hashed, the custody chain, the signature.
func (s *Server) verify(ctx context.Context, id string) (*evidence.Report, error) {
	if err := evidence.CheckCaseID(id); err != nil {
		return nil, badRequest{err}
	}
	st, _, err := s.caseStore(ctx, id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	rep, err := evidence.Verify(ctx, st, id, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoCase
	}
	return rep, err
}

func (s *Server) apiVerify(w http.ResponseWriter, r *http.Request, _ caller) {
	rep, err := s.verify(r.Context(), r.PathValue("id"))
	if err != nil {
		s.caseError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"case_id": rep.CaseID, "ok": len(rep.Problems) == 0, "problems": nonNil(rep.Problems),
		"checked": nonNil(rep.Checked), "not_rehashable": nonNil(rep.NotRehashable), "unrecorded": nonNil(rep.Unrecorded),
		"custody_entries": rep.CustodyEntries, "signature": rep.Signature})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// formVerify is the Verify button: the case page with the report.
func (s *Server) formVerify(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("id")
	rep, err := s.verify(r.Context(), id)
	if err != nil {
		s.caseError(w, r, err)
		return
	}
	v, _, err := s.loadCase(r.Context(), id, timelineFilter{})
	if err != nil {
		s.caseError(w, r, err)
		return
	}
	v.Verify = rep
	v.Playbooks = s.targetPlaybooks()
	s.render(w, r, http.StatusOK, "case", c, v)
}

// apiCases lists the cases of the runs the backend knows.
func (s *Server) apiCases(w http.ResponseWriter, r *http.Request, _ caller) {
	rows, err := s.listRuns(r.Context())
	if err != nil && len(rows) == 0 {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	type caseRow struct {
		CaseID   string `json:"case_id"`
		RunID    string `json:"run_id"`
		Playbook string `json:"playbook"`
		Status   string `json:"status"`
	}
	out := []caseRow{}
	for _, row := range rows {
		if row.CaseID != "" {
			out = append(out, caseRow{CaseID: row.CaseID, RunID: row.ID, Playbook: row.Playbook, Status: row.Status})
		}
	}
	writeJSON(w, http.StatusOK, out)
}
