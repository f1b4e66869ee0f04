package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestResumeChecksWhatItIsGiven: resume takes only a run id (never a path
// out of the state dir), and refuses a journal whose inputs no longer fit
// the playbook's declarations or differ from the inputs the case's custody
// log recorded at the start: an edited journal cannot make a resumed run
// act on something else than the case says.
func TestResumeChecksWhatItIsGiven(t *testing.T) {
	s := newSandbox(t)
	marker := filepath.Join(s.dir, "marker")
	r := s.run("run", "resumable", "-i", "marker="+marker, "-i", "dir="+s.dir, "-i", "target=ok-one").want(t, 1)
	runID := r.resumeID(t)
	journal := filepath.Join(s.state, "runs", runID, "journal.jsonl")
	orig, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(s.dir, "outside")
	if err := os.MkdirAll(filepath.Join(outside, "runs", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"../../outside/runs/x", "../" + runID, "run-a/../" + runID, "/etc/passwd", ".", ""} {
		got := s.run("resume", id).want(t, 2)
		contains(t, "resume "+id, got.stderr, "not a run id")
	}

	tests := []struct {
		name   string
		inputs func(map[string]any)
		want   string
	}{
		{"a value its pattern refuses", func(in map[string]any) { in["target"] = "../../escape" }, `input "target"`},
		{"an input the playbook does not declare", func(in map[string]any) { in["extra"] = "x" }, `"extra"`},
		{"a required input gone", func(in map[string]any) { delete(in, "dir") }, `input "dir"`},
		{"a valid value the case did not record", func(in map[string]any) { in["target"] = "ok-other" }, "custody"},
	}
	writeFile(t, marker, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, journal, editHeaderInputs(t, orig, tt.inputs))
			got := s.run("resume", runID).want(t, 2)
			contains(t, "resume", got.stderr, tt.want)
			for _, f := range []string{"ok-other", "escape"} {
				if _, err := os.Stat(filepath.Join(s.dir, f)); err == nil {
					t.Errorf("%s was created: the refused resume ran", f)
				}
			}
		})
	}
	writeFile(t, journal, orig)
	s.run("resume", runID).want(t, 0)
	if _, err := os.Stat(filepath.Join(s.dir, "ok-one")); err != nil {
		t.Errorf("the intact journal resumed, but ok-one was not touched: %v", err)
	}
}

// editHeaderInputs changes the inputs in the first line of a journal.
func editHeaderInputs(t *testing.T, journal []byte, edit func(map[string]any)) []byte {
	t.Helper()
	first, rest, _ := bytes.Cut(journal, []byte("\n"))
	var e map[string]any
	if err := json.Unmarshal(first, &e); err != nil {
		t.Fatal(err)
	}
	h := e["header"].(map[string]any)
	in := h["inputs"].(map[string]any)
	edit(in)
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return append(append(b, '\n'), rest...)
}
