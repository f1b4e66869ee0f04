package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain", errors.New("boom"), 1},
		{"usage", usageErrorf("bad %q", "x"), 2},
		{"playbook errors", fmt.Errorf("loading: %w", &loader.Errors{List: []*loader.Error{{Msg: "x"}}}), 2},
		{"invalid input", fmt.Errorf("input %q: %w", "id", engine.ErrInvalidInput), 2},
		{"interrupted", fmt.Errorf("run: %w", engine.ErrInterrupted), 3},
		{"silent", silent{code: 3}, 3},
		{"explicit code wins", withCode(1, fmt.Errorf("x: %w", engine.ErrInvalidInput)), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCaseSegment(t *testing.T) {
	for in, want := range map[string]string{
		"i-0abc":          "i-0abc",
		"10.0.0.1":        "10.0.0.1",
		"../etc/passwd":   "_etc_passwd",
		"":                "target",
		"...":             "target",
		"a b/c\x00d":      "a_b_c_d",
		"AKIA1234567890X": "AKIA1234567890X",
	} {
		if got := caseSegment(in); got != want {
			t.Errorf("caseSegment(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestStateDir(t *testing.T) {
	t.Setenv("HOME", "/home/responder")
	abs, _ := filepath.Abs("rel/state")
	for in, want := range map[string]string{
		"":          "/home/responder/.firebreak",
		"~":         "/home/responder",
		"~/x":       "/home/responder/x",
		"/var/fb":   "/var/fb",
		"rel/state": abs,
	} {
		got, err := stateDir(in)
		if err != nil || got != want {
			t.Errorf("stateDir(%q): got %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestLoadSourceForResume: resume finds a run's playbook again where the
// run found it, a built-in or a file, with the same bytes.
func TestLoadSourceForResume(t *testing.T) {
	st := &cliState{}
	reg := st.registry(t.Context(), false)
	builtin, err := (&cliState{}).catalog(reg).Find("local-triage")
	if err != nil {
		t.Fatal(err)
	}
	again, err := loadSource(reg, builtin.Source)
	if err != nil || again.SHA256 != builtin.SHA256 {
		t.Fatalf("builtin %q: got %v, sha %s; want sha %s", builtin.Source, err, again.SHA256, builtin.SHA256)
	}
	file, _ := filepath.Abs("testdata/playbooks/touch.yaml")
	if pb, err := loadSource(reg, file); err != nil || pb.Name != "touch" {
		t.Fatalf("file: got %v, %v", pb, err)
	}
	if _, err := loadSource(reg, "builtin:no-such.yaml"); err == nil {
		t.Errorf("a built-in missing from this build: got no error")
	}
}
