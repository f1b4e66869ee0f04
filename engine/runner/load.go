package runner

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// RunState is a run as its journal tells it.
type RunState struct {
	Header Header
	// Status is the status the last Run or Resume ended with; running when
	// a process is running it now; interrupted (with Crashed) when the
	// process running it died before it ended: resume it.
	Status engine.RunStatus
	// Crashed is true when the journal has no end and no process holds it.
	Crashed bool
	// Steps holds the latest record of every step the journal names.
	Steps map[string]*engine.StepRecord
	// UpdatedAt is the time of the last entry.
	UpdatedAt time.Time
	// Resumes counts the Resume calls the run has seen.
	Resumes int
	// TornTail is true when the last line was cut short by a crash; it was
	// ignored.
	TornTail bool

	path     string
	size     int64               // bytes up to the end of the last whole line
	itemKeys map[string][]string // step -> item index -> the item's value as JSON
}

// NewRunID returns a sortable, unique run id: run-20261129T102217Z-a1b2c3.
func NewRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported systems
	return "run-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// runIDPattern is what a run id looks like: "run-" and dash-separated
// letters and digits (NewRunID's, or a name a test or caller chose). It
// holds no "/", "." or "..", so it names one directory under the state dir.
var runIDPattern = regexp.MustCompile(`^run-[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`)

// maxRunIDLen bounds a run id: it is a directory name.
const maxRunIDLen = 128

// CheckRunID refuses what is not a run id, such as a path that would lead
// out of the state dir ("../x"). The error wraps engine.ErrInvalidInput.
func CheckRunID(id string) error {
	if len(id) > maxRunIDLen || !runIDPattern.MatchString(id) {
		shown := id
		if len(shown) > 80 {
			shown = shown[:80] + "..."
		}
		return fmt.Errorf("%q is not a run id (run-20261129T102217Z-a1b2c3: `firebreak runs` lists them): %w", shown, engine.ErrInvalidInput)
	}
	return nil
}

// LoadJournal reads the journal of run runID. A last line torn by a crash
// (no newline) is ignored. A whole line that does not parse is an error
// that names it, even the last: the runner writes whole lines and never
// writes after a failed write, so such a line is damage or an edit, and
// guessing past it could resume from a state the run never recorded.
func LoadJournal(stateDir, runID string) (*RunState, error) {
	if err := CheckRunID(runID); err != nil {
		return nil, err
	}
	path := JournalPath(stateDir, runID)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no run %q in %q: see `firebreak runs` for the runs there: %w", runID, stateDir, err)
		}
		return nil, fmt.Errorf("reading the journal of run %q: %w", runID, err)
	}
	st := &RunState{Steps: map[string]*engine.StepRecord{}, path: path, itemKeys: map[string][]string{}}
	r := bufio.NewReader(bytes.NewReader(data))
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			st.TornTail = len(bytes.TrimSpace(line)) > 0 // no newline: cut short by a crash
			break
		}
		var e entry
		if jerr := json.Unmarshal(line, &e); jerr != nil {
			return nil, fmt.Errorf("%s:%d: broken journal line: %w; a whole line that does not parse is damage, not a torn end: keep a copy, then cut the line off to resume", path, n, jerr)
		}
		if err := st.apply(n, &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		st.size += int64(len(line))
	}
	if st.Header.RunID == "" {
		return nil, fmt.Errorf("%s: journal holds no run header; the run never started, start it again", path)
	}
	if st.Status == engine.RunRunning && !journalLive(path) {
		st.Status, st.Crashed = engine.RunInterrupted, true
	}
	return st, nil
}

// apply folds one journal entry into the state.
func (s *RunState) apply(n int, e *entry) error {
	if n == 1 {
		if e.Kind != kindRun || e.Header == nil {
			return fmt.Errorf("journal starts with %q, want a run header", e.Kind)
		}
		s.Header, s.Status = *e.Header, engine.RunRunning
	}
	s.UpdatedAt = e.Time
	switch e.Kind {
	case kindResume:
		s.Status = engine.RunRunning
		s.Resumes++
	case kindEnd:
		s.Status = engine.RunStatus(e.Status)
	case kindStep:
		rec := s.step(e.Step, e.Action)
		applyRecord(rec, e)
		if e.Count != nil && *e.Count >= 0 && *e.Count <= maxItems {
			rec.Items = resize(rec.Items, *e.Count)
			s.itemKeys[e.Step] = resizeKeys(s.itemKeys[e.Step], *e.Count)
		}
	case kindItem:
		if e.Index == nil || *e.Index < 0 || *e.Index >= maxItems {
			return fmt.Errorf("item entry of step %q without a valid index", e.Step)
		}
		i, rec := *e.Index, s.step(e.Step, e.Action)
		if i >= len(rec.Items) {
			rec.Items = resize(rec.Items, i+1)
		}
		keys := s.itemKeys[e.Step]
		if i >= len(keys) {
			keys = resizeKeys(keys, i+1)
		}
		keys[i] = e.Key
		s.itemKeys[e.Step] = keys
		rec.Items[i].ID = e.Step
		applyRecord(&rec.Items[i], e)
	}
	return nil
}

func (s *RunState) step(id, action string) *engine.StepRecord {
	rec, ok := s.Steps[id]
	if !ok {
		rec = &engine.StepRecord{ID: id, Status: engine.StatusPending}
		s.Steps[id] = rec
	}
	if action != "" {
		rec.Action = action
	}
	return rec
}

// applyRecord sets what e says of a step or an item on rec.
func applyRecord(rec *engine.StepRecord, e *entry) {
	status := engine.StepStatus(e.Status)
	if status == "" {
		return
	}
	if status == engine.StatusRunning && e.Attempt <= 1 {
		t := e.Time
		rec.StartedAt, rec.FinishedAt, rec.Error, rec.SkipReason, rec.Outputs = &t, nil, "", "", nil
	}
	rec.Status = status
	if e.Attempt > 0 {
		rec.Attempts = e.Attempt
	}
	if status.Final() {
		t := e.Time
		rec.FinishedAt, rec.Error, rec.SkipReason, rec.Outputs = &t, e.Error, e.Reason, e.Outputs
	} else if e.Error != "" {
		rec.Error = e.Error
	}
}

func resize(items []engine.StepRecord, n int) []engine.StepRecord {
	for len(items) < n {
		items = append(items, engine.StepRecord{Status: engine.StatusPending})
	}
	return items[:n]
}

func resizeKeys(keys []string, n int) []string {
	for len(keys) < n {
		keys = append(keys, "")
	}
	return keys[:n]
}

// ListRuns lists the runs in stateDir, oldest first (run ids sort by time).
// A state dir with no runs gives an empty list.
// Duration runs to the journal's last entry; Err is set for a journal
// that cannot be read.
func ListRuns(stateDir string) ([]engine.RunInfo, error) {
	dirs, err := os.ReadDir(filepath.Join(stateDir, "runs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing runs in %q: %w", stateDir, err)
	}
	var out []engine.RunInfo
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		st, err := LoadJournal(stateDir, d.Name())
		if err != nil {
			out = append(out, engine.RunInfo{ID: d.Name(), Err: err})
			continue
		}
		h := st.Header
		out = append(out, engine.RunInfo{ID: d.Name(), Playbook: h.Playbook, CaseID: h.CaseID,
			Status: st.Status, StartedAt: h.StartedAt, Duration: st.UpdatedAt.Sub(h.StartedAt)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
