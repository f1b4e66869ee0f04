package local

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
)

// Not parallel: it sets firebreak's own environment.
func TestCommandEnvironmentIsMinimal(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "leak-me-not")
	t.Setenv("FIREBREAK_TEST_PASS", "passed-through")
	out, err := run(t, context.Background(), engine.Params{
		"argv":        argv("env"),
		"env":         map[string]any{"CASE": "cr-1", "N": 3},
		"inherit_env": []any{"FIREBREAK_TEST_PASS"},
	}, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(out["stdout"].(string), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	if _, leaked := got["AWS_SECRET_ACCESS_KEY"]; leaked {
		t.Errorf("env: AWS_SECRET_ACCESS_KEY reached the program")
	}
	want := map[string]string{"CASE": "cr-1", "N": "3", "LANG": "C", "FIREBREAK_TEST_PASS": "passed-through"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("env %s: got %q, want %q", k, got[k], v)
		}
	}
	if got["PATH"] == "" {
		t.Errorf("env: no PATH, want firebreak's")
	}
}

func TestCommandStdinAndDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := run(t, context.Background(), engine.Params{
		"argv":  argv("sh", "-c", "pwd; cat"),
		"dir":   dir,
		"stdin": "from stdin\n",
	}, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := out["stdout"], dir+"\nfrom stdin"; got != want {
		t.Errorf("stdout: got %q, want %q", got, want)
	}
}

func TestCommandArtifactNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		forEach bool
		index   int
		attempt int
		want    string
	}{
		{"plain", false, 0, 1, "stdout.txt"},
		{"first item", true, 0, 1, "stdout-item-0.txt"},
		{"item retried", true, 7, 2, "stdout-item-7.attempt-2.txt"},
		{"retried", false, 0, 3, "stdout.attempt-3.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := enginetest.NewEvidence()
			in := &engine.StepInput{StepID: "s", Attempt: tt.attempt, ForEach: tt.forEach, ItemIndex: tt.index,
				Params: engine.Params{"argv": argv("echo", "hi")}, Evidence: ev}
			if _, err := (&command{}).Run(context.Background(), in); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if _, ok := ev.Object(tt.want); !ok {
				t.Errorf("artifacts: got %v, want %s", ev.Names(), tt.want)
			}
		})
	}
}

func TestCommandFailsWhenOutputCannotBeStored(t *testing.T) {
	t.Parallel()
	ev := enginetest.NewEvidence()
	ev.PutErr = errors.New("disk full")
	// Far more than a pipe holds: the program must not block once the
	// store gave up reading.
	_, err := run(t, context.Background(), engine.Params{"argv": argv("sh", "-c", "head -c 1000000 /dev/zero")}, ev)
	if err == nil || !strings.Contains(err.Error(), "storing stdout.txt: disk full") {
		t.Fatalf("Run: got %v, want the storage error", err)
	}
}
