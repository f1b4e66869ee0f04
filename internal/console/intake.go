package console

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/firebreak-ir/firebreak/findings"
)

// SignatureHeader carries the HMAC-SHA256 of a POST /api/findings body
// under the intake secret, as "sha256=HEX": a sender that holds the secret
// but no token (an EventBridge API destination, a relay) can post
// findings, and nothing else.
const SignatureHeader = "X-Firebreak-Signature"

// intakeRecord is what the console keeps of one finding, by its id, in
// STATE_DIR/intake/: written and synced before anything is started for
// it, and before an SQS message that carried it is deleted.
type intakeRecord struct {
	Key       string    `json:"key"`
	FindingID string    `json:"finding_id"`
	Type      string    `json:"type"`
	Title     string    `json:"title,omitempty"`
	Source    string    `json:"source"` // api, sqs
	UpdatedAt string    `json:"updated_at,omitempty"`
	Count     int       `json:"count,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Seen counts the times it came (GuardDuty sends a finding again each
	// time it updates its count): only the first starts anything.
	Seen int `json:"seen"`
	// Runs started for it; Pending are the playbooks that answer it and
	// wait for a responder's click (not auto: true, or serve without
	// --auto); Misfits match its type but cannot take their inputs from it.
	Runs    []intakeRun `json:"runs,omitempty"`
	Pending []string    `json:"pending,omitempty"`
	Misfits []string    `json:"misfits,omitempty"`
	Errors  []string    `json:"errors,omitempty"`
	// Raw is the finding as it came (its own document within a list).
	Raw json.RawMessage `json:"raw"`
}

type intakeRun struct {
	Playbook string    `json:"playbook"`
	RunID    string    `json:"run_id"`
	CaseID   string    `json:"case_id"`
	Auto     bool      `json:"auto"`
	At       time.Time `json:"at"`
}

// intakeResult is the answer to one finding of a POST.
type intakeResult struct {
	FindingID string      `json:"finding_id"`
	Type      string      `json:"type"`
	Duplicate bool        `json:"duplicate"`
	Started   []intakeRun `json:"started"`
	Queued    []string    `json:"queued"`
	Errors    []string    `json:"errors,omitempty"`
}

// intake keeps the records; one finding is taken at a time, so the same
// finding posted twice at once starts once.
type intake struct {
	dir string
	mu  sync.Mutex
}

var errNoIntakeDir = errors.New("finding intake needs a state dir")

func (in *intake) path(key string) string { return filepath.Join(in.dir, key+".json") }

func (in *intake) load(key string) (*intakeRecord, error) {
	data, err := os.ReadFile(in.path(key))
	if err != nil {
		return nil, err
	}
	var rec intakeRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", in.path(key), err)
	}
	return &rec, nil
}

// save writes rec durably: a temporary file, synced, renamed over the
// record, and the directory synced.
func (in *intake) save(rec *intakeRecord) error {
	if in.dir == "" {
		return errNoIntakeDir
	}
	if err := os.MkdirAll(in.dir, 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(in.dir, ".record-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), in.path(rec.Key)); err != nil {
		return err
	}
	d, err := os.Open(in.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (in *intake) list() ([]*intakeRecord, error) {
	entries, err := os.ReadDir(in.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*intakeRecord
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		rec, err := in.load(strings.TrimSuffix(name, ".json"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastSeen.After(out[j].LastSeen) })
	return out, errors.Join(errs...)
}

// findingKey names a finding's record: a hash of its id (of its document
// when it has none), so no finding names a file.
func findingKey(f *findings.Finding) string {
	id := f.ID()
	if id == "" {
		id = "raw:" + string(f.Raw)
	}
	sum := sha256.Sum256([]byte(f.Type() + "\x00" + id))
	return hex.EncodeToString(sum[:16])
}

// takeFindings parses every finding data carries and takes each: a new
// one is recorded durably, then the playbooks that answer it are started
// (auto) or queued; one seen before updates its record and starts
// nothing. An error means nothing was taken: bad input (400) or a record
// that could not be written.
func (s *Server) takeFindings(ctx context.Context, data []byte, source string) ([]intakeResult, error) {
	list, err := findings.ParseAll(data)
	if err != nil {
		return nil, badRequest{err}
	}
	if s.intake.dir == "" {
		return nil, errNoIntakeDir
	}
	var out []intakeResult
	for _, f := range list {
		res, err := s.takeOne(ctx, f, source)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

func (s *Server) takeOne(ctx context.Context, f *findings.Finding, source string) (intakeResult, error) {
	s.intake.mu.Lock()
	defer s.intake.mu.Unlock()
	now := s.cfg.Now().UTC()
	key := findingKey(f)
	res := intakeResult{FindingID: f.ID(), Type: f.Type(), Started: []intakeRun{}, Queued: []string{}}
	if rec, err := s.intake.load(key); err == nil {
		rec.Seen++
		rec.LastSeen = now
		if c := f.Count(); c > rec.Count {
			rec.Count = c
		}
		if u := f.UpdatedAt(); u > rec.UpdatedAt {
			rec.UpdatedAt = u
		}
		res.Duplicate = true
		return res, s.intake.save(rec)
	} else if !errors.Is(err, os.ErrNotExist) {
		return res, err
	}
	rec := &intakeRecord{Key: key, FindingID: f.ID(), Type: f.Type(), Source: source, UpdatedAt: f.UpdatedAt(), Count: f.Count(),
		FirstSeen: now, LastSeen: now, Seen: 1, Raw: json.RawMessage(f.Raw)}
	if t, ok := f.Object["title"].(string); ok {
		rec.Title = t
	} else if t, ok := f.Object["Title"].(string); ok {
		rec.Title = t
	}
	if !json.Valid(f.Raw) {
		rec.Raw = nil
	}
	entries, lerr := s.cfg.Catalog.List()
	if lerr != nil {
		rec.Errors = append(rec.Errors, lerr.Error())
	}
	answers, misfits := findings.Answers(s.cfg.Catalog, entries, f)
	for _, m := range misfits {
		rec.Misfits = append(rec.Misfits, m.Name+": "+strings.ReplaceAll(m.Err.Error(), "\n", "; "))
	}
	auto := map[string]bool{}
	for _, e := range entries {
		auto[e.Name] = e.Auto && s.cfg.Auto
	}
	for _, name := range answers {
		if !auto[name] {
			rec.Pending = append(rec.Pending, name)
		}
	}
	// Durable before anything starts: a crash from here on leaves the
	// finding known, and the same finding again starts nothing.
	if err := s.intake.save(rec); err != nil {
		return res, fmt.Errorf("recording finding %s: %w", f.ID(), err)
	}
	for _, name := range answers {
		if !auto[name] {
			continue
		}
		run, err := s.startFromFinding(ctx, name, f)
		if err != nil {
			rec.Errors = append(rec.Errors, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		rec.Runs = append(rec.Runs, intakeRun{Playbook: name, RunID: run.RunID, CaseID: run.CaseID, Auto: true, At: now})
	}
	s.cfg.Logger.Info("finding taken", "finding", f.ID(), "type", f.Type(), "source", source, "started", len(rec.Runs), "queued", len(rec.Pending))
	res.Started, res.Queued, res.Errors = append(res.Started, rec.Runs...), append(res.Queued, rec.Pending...), rec.Errors
	return res, s.intake.save(rec)
}

// startFromFinding starts playbook name for f, its inputs from the finding.
func (s *Server) startFromFinding(ctx context.Context, name string, f *findings.Finding) (startedRun, error) {
	out, err := s.start(ctx, startRequest{Playbook: name}, f)
	if err != nil {
		return startedRun{}, err
	}
	return out[0], nil
}

// apiFindings is POST /api/findings: the responder token (or a session
// with its CSRF token), or the HMAC signature of the body.
func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) {
	var data []byte
	var err error
	if sig := r.Header.Get(SignatureHeader); sig != "" && r.Header.Get("Authorization") == "" {
		if data, err = io.ReadAll(r.Body); err != nil {
			s.bodyError(w, r, err)
			return
		}
		if !s.validSignature(sig, data) {
			writeError(w, http.StatusUnauthorized, "the "+SignatureHeader+" signature does not match the body (HMAC-SHA256 with the intake secret, as sha256=HEX)")
			return
		}
	} else {
		c := s.identify(r)
		switch {
		case c.role == NoRole:
			writeError(w, http.StatusUnauthorized, "a token is needed: Authorization: Bearer TOKEN, or a "+SignatureHeader+" signature")
			return
		case c.role < Responder:
			writeError(w, http.StatusForbidden, "the viewer token cannot post findings")
			return
		}
		if err := checkCSRF(r, c); err != nil {
			writeError(w, http.StatusForbidden, err.Error())
			return
		}
		if data, err = io.ReadAll(r.Body); err != nil {
			s.bodyError(w, r, err)
			return
		}
	}
	res, err := s.takeFindings(r.Context(), data, "api")
	if err != nil {
		s.startFailed(w, r, nil, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": res})
}

func (s *Server) bodyError(w http.ResponseWriter, r *http.Request, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		s.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", maxFindingBody))
		return
	}
	s.fail(w, r, http.StatusBadRequest, "reading the body: "+err.Error())
}

func (s *Server) validSignature(header string, body []byte) bool {
	if len(s.cfg.IntakeSecret) == 0 {
		return false
	}
	got, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	want, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, s.cfg.IntakeSecret)
	mac.Write(body)
	return hmac.Equal(want, mac.Sum(nil))
}

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (s *Server) apiFindingList(w http.ResponseWriter, _ *http.Request, _ caller) {
	recs, err := s.intake.list()
	if err != nil && len(recs) == 0 {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if recs == nil {
		recs = []*intakeRecord{}
	}
	writeJSON(w, http.StatusOK, recs)
}

type findingsPage struct {
	Findings []*intakeRecord
	Auto     bool
	Error    string
}

func (s *Server) findingsPage(w http.ResponseWriter, r *http.Request, c caller) {
	recs, err := s.intake.list()
	p := findingsPage{Findings: recs, Auto: s.cfg.Auto}
	if err != nil {
		p.Error = err.Error()
	}
	s.render(w, r, http.StatusOK, "findings", c, p)
}

// formStartFinding is the Start button of a pending playbook: it starts
// the playbook for the recorded finding, once.
func (s *Server) formStartFinding(w http.ResponseWriter, r *http.Request, _ caller) {
	key, name := r.PathValue("key"), r.PostFormValue("playbook")
	s.intake.mu.Lock()
	defer s.intake.mu.Unlock()
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" {
		s.fail(w, r, http.StatusBadRequest, "not a finding key")
		return
	}
	rec, err := s.intake.load(key)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "no such finding")
		return
	}
	i := indexOf(rec.Pending, name)
	if i < 0 {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("%q is not waiting to be started for this finding", name))
		return
	}
	f, err := findings.Parse(rec.Raw)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "the recorded finding does not parse any more: "+err.Error())
		return
	}
	run, err := s.startFromFinding(r.Context(), name, f)
	if err != nil {
		s.startFailed(w, r, nil, err)
		return
	}
	rec.Pending = append(rec.Pending[:i], rec.Pending[i+1:]...)
	rec.Runs = append(rec.Runs, intakeRun{Playbook: name, RunID: run.RunID, CaseID: run.CaseID, At: s.cfg.Now().UTC()})
	if err := s.intake.save(rec); err != nil {
		s.cfg.Logger.Error("recording a run started for a finding", "finding", rec.FindingID, "run", run.RunID, "error", err)
	}
	http.Redirect(w, r, "/runs/"+run.RunID, http.StatusSeeOther)
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
