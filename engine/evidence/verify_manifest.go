package evidence

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// manifestProblems holds the manifest to what the custody log recorded:
// the header of the run that opened (or last resumed) the case, the end
// the case.finished line recorded (status, run, time, and the digest of
// the whole manifest but its custody summary), and each step's last
// state. The custody head pins the log, so an unsigned manifest edited
// alone (a failed run made "succeeded", an error removed) is caught; one
// rebuilt with its whole log is not, which is what a signature is for.
func manifestProblems(rep *Report, lines []parsedLine, m *Manifest, raw []byte) {
	opened, last, ok := headers(lines)
	if !ok {
		rep.problem("custody log does not start with %s: it records no header to hold the manifest to", EventCaseOpened)
	} else {
		headerProblems(rep, opened, last, m)
	}
	finishProblems(rep, lines, m, raw)
	stepProblems(rep, lines, m)
}

// headers are the header the case was opened with and the last one a
// run that opened or resumed it recorded; last is nil when a resume did
// not record its header (a case written before resumes did).
func headers(lines []parsedLine) (opened Header, last *Header, ok bool) {
	opened, ok = openingHeader(lines)
	last = &opened
	for _, l := range lines {
		if l.Err == nil && l.Entry.Event == EventCaseResumed {
			h, found := decodeHeader(l.Entry)
			last = nil
			if found {
				last = &h
			}
		}
	}
	return opened, last, ok
}

func headerProblems(rep *Report, opened Header, last *Header, m *Manifest) {
	differs := func(field string, manifest, custody any) {
		if !reflect.DeepEqual(jsonValue(manifest), jsonValue(custody)) {
			rep.problem("manifest %s is %s, but custody recorded %s", field, jsonText(manifest), jsonText(custody))
		}
	}
	differs("case_id", m.CaseID, opened.CaseID)
	differs("started_at", m.StartedAt, opened.StartedAt)
	if last == nil {
		return
	}
	differs("run_id", m.RunID, last.RunID)
	differs("operator", m.Operator, last.Operator)
	differs("inputs", m.Inputs, orEmpty(last.Inputs))
	differs("playbook", m.Playbook, last.Playbook)
	differs("tool", m.Tool, last.Tool)
}

// finishProblems checks the manifest against the log's last line, which
// Finish wrote as case.finished just before it stored the manifest.
func finishProblems(rep *Report, lines []parsedLine, m *Manifest, raw []byte) {
	if len(lines) == 0 {
		return
	}
	end := lines[len(lines)-1]
	if end.Err != nil || end.Entry.Event != EventCaseFinished {
		rep.problem("custody log ends with %q, not %s: the manifest is not the one its run's end wrote", end.Entry.Event, EventCaseFinished)
		return
	}
	d := end.Entry.Detail
	if s, _ := d["status"].(string); s != string(m.Status) {
		rep.problem("manifest status is %q, but custody line %d (%s) recorded %q", m.Status, end.No, EventCaseFinished, s)
	}
	if r, _ := d["run_id"].(string); r != m.RunID {
		rep.problem("manifest run_id is %q, but custody line %d (%s) recorded %q", m.RunID, end.No, EventCaseFinished, r)
	}
	if f, ok := d["finished_at"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, f); err != nil || !t.Equal(m.FinishedAt) {
			rep.problem("manifest finished_at is %s, but custody line %d (%s) recorded %s", m.FinishedAt.Format(time.RFC3339Nano), end.No, EventCaseFinished, f)
		}
	}
	want, ok := d["manifest_sha256"].(string)
	if !ok {
		return // a case written before the digest was recorded: the fields above are what can be checked
	}
	if got, err := bodyDigest(raw); err != nil || got != want {
		rep.problem("manifest.json is not the manifest its run wrote: its digest differs from the one custody line %d (%s) recorded", end.No, EventCaseFinished)
	}
}

// stepState is a step's (or item's) last state in the custody log.
type stepState struct {
	line   int
	status string
	err    string
	hasErr bool
	reason string
}

// stepProblems checks each manifest step (and for_each item) against the
// last step.* event the custody log holds for it: status, error and skip
// reason. A step the log never mentions is a problem once the log holds
// step events at all (a case written by a run, not by hand).
func stepProblems(rep *Report, lines []parsedLine, m *Manifest) {
	last := map[string]stepState{}
	for _, l := range lines {
		if s, ok := stepEvent(l); ok {
			last[stepKey(l.Entry)] = s
		}
	}
	if len(last) == 0 {
		return
	}
	for _, s := range m.Steps {
		checkStep(rep, last, s.ID, "step "+s.ID, s)
		for i, it := range s.Items {
			checkStep(rep, last, s.ID+"#"+itoa(i), "step "+s.ID+" item "+itoa(i), it)
		}
	}
}

func checkStep(rep *Report, last map[string]stepState, key, name string, r engine.StepRecord) {
	s, ok := last[key]
	switch {
	case !ok && r.Status == engine.StatusPending:
	case !ok:
		rep.problem("%s: manifest says %s, but the custody log records nothing of it", name, r.Status)
	case s.status != string(r.Status):
		rep.problem("%s: manifest status is %q, but custody line %d recorded %q", name, r.Status, s.line, s.status)
	case s.hasErr && s.err != r.Error, !s.hasErr && r.Error != "" && s.status != string(engine.StatusCancelled):
		rep.problem("%s: manifest error is %q, but custody line %d recorded %q", name, r.Error, s.line, s.err)
	case s.reason != r.SkipReason:
		rep.problem("%s: manifest skip reason is %q, but custody line %d recorded %q", name, r.SkipReason, s.line, s.reason)
	}
}

// stepEvent reads a runner's step event as the state it leaves the step in.
func stepEvent(l parsedLine) (stepState, bool) {
	e := l.Entry
	if l.Err != nil || e.Step == "" || !strings.HasPrefix(e.Event, "step.") {
		return stepState{}, false
	}
	status := strings.TrimPrefix(e.Event, "step.")
	switch status {
	case "started", "retry":
		status = string(engine.StatusRunning)
	case "approved", "declined":
		return stepState{}, false // the step's own event follows
	}
	s := stepState{line: l.No, status: status}
	s.err, s.hasErr = e.Detail["error"].(string)
	if status == string(engine.StatusRunning) {
		s.err, s.hasErr = "", false // a retry's error is the attempt's, not the step's
	}
	s.reason, _ = e.Detail["reason"].(string)
	return s, true
}

func stepKey(e Entry) string {
	if i, ok := e.Detail["item"].(float64); ok {
		return e.Step + "#" + itoa(int(i))
	}
	return e.Step
}

// jsonValue is v as JSON decodes it, so that values that went through
// JSON (the custody header) compare equal with those that did not.
func jsonValue(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

func jsonText(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(raw)
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func itoa(i int) string { return strconv.Itoa(i) }
