package local

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/enginetest"
)

// run runs the command action once with params, as the runner would.
func run(t *testing.T, ctx context.Context, params engine.Params, ev engine.Evidence) (engine.Outputs, error) {
	t.Helper()
	if ev == nil {
		ev = enginetest.NewEvidence()
	}
	in := &engine.StepInput{RunID: "run-1", CaseID: "cr-1", StepID: "s", Params: params, Attempt: 1, Evidence: ev}
	return (&command{}).Run(ctx, in)
}

func argv(words ...string) []any {
	out := make([]any, len(words))
	for i, w := range words {
		out[i] = w
	}
	return out
}

func TestCommandPassesArgvLiterally(t *testing.T) {
	t.Parallel()
	// Were a shell involved, ";" would end the command, $HOME expand and
	// "*" glob; printf must receive them as they are.
	words := []string{"a; rm -rf /tmp/firebreak-should-not-exist", "$HOME", "*", "`id`", "'q'"}
	out, err := run(t, context.Background(), engine.Params{"argv": argv(append([]string{"printf", "%s|"}, words...)...)}, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := out["stdout"], strings.Join(words, "|")+"|"; got != want {
		t.Fatalf("stdout: got %q, want %q", got, want)
	}
}

func TestCommandStoresHashedOutput(t *testing.T) {
	t.Parallel()
	ev := enginetest.NewEvidence()
	script := `printf 'line one\nline two\n'; printf 'warn: something\n' >&2`
	out, err := run(t, context.Background(), engine.Params{"argv": argv("sh", "-c", script)}, ev)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	cases := []struct {
		name, want, kind string
	}{
		{"stdout.txt", "line one\nline two\n", "stdout"},
		{"stderr.txt", "warn: something\n", "stderr"},
	}
	for _, c := range cases {
		got, ok := ev.Object(c.name)
		if !ok {
			t.Fatalf("artifact %s: not stored; have %v", c.name, ev.Names())
		}
		if string(got) != c.want {
			t.Errorf("artifact %s: got %q, want %q", c.name, got, c.want)
		}
		art, meta, _ := ev.Artifact(c.name)
		if art.SHA256 != enginetest.SHA256([]byte(c.want)) || meta.Kind != c.kind {
			t.Errorf("artifact %s: got sha %s kind %q, want %s %q", c.name, art.SHA256, meta.Kind, enginetest.SHA256([]byte(c.want)), c.kind)
		}
	}
	if got, want := out["stdout_sha256"], enginetest.SHA256([]byte(cases[0].want)); got != want {
		t.Errorf("stdout_sha256: got %v, want %v", got, want)
	}
	if got, want := out["stdout"], "line one\nline two"; got != want {
		t.Errorf("stdout: got %q, want %q", got, want)
	}
	if got, want := out["stderr_tail"], "warn: something"; got != want {
		t.Errorf("stderr_tail: got %q, want %q", got, want)
	}
	evs := ev.Events()
	if len(evs) != 2 || evs[0].Name != "process.started" || evs[0].Detail["pgid"] != evs[0].Detail["pid"] ||
		evs[1].Name != "command-exited" || evs[1].Detail["exit_code"] != 0 {
		t.Errorf("custody events: got %+v, want process.started (pid, pgid) then command-exited with exit_code 0", evs)
	}
}

func TestCommandExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		exit      string
		ok        []any
		retry     []any
		wantErr   string
		retryable bool
	}{
		{name: "zero", exit: "0"},
		{name: "non-zero fails", exit: "3", wantErr: `"sh" exited with status 3 (stderr: "boom"); if that status is expected, list it in ok_exit_codes`},
		{name: "listed code succeeds", exit: "3", ok: []any{1, "3"}},
		{name: "unlisted code fails", exit: "2", ok: []any{3}, wantErr: `"sh" exited with status 2 (stderr: "boom")`},
		{name: "retry code is retryable", exit: "7", retry: []any{7, 28}, wantErr: `"sh" exited with status 7 (stderr: "boom"), listed in retry_exit_codes`, retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := engine.Params{"argv": argv("sh", "-c", "echo boom >&2; exit "+tt.exit)}
			if tt.ok != nil {
				p["ok_exit_codes"] = tt.ok
			}
			if tt.retry != nil {
				p["retry_exit_codes"] = tt.retry
			}
			out, err := run(t, context.Background(), p, nil)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Run: got %v, want success", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)) {
				t.Fatalf("Run: got error %v, want %q", err, tt.wantErr)
			}
			if engine.IsRetryable(err) != tt.retryable {
				t.Errorf("Run: retryable got %v, want %v", engine.IsRetryable(err), tt.retryable)
			}
			if got := out["exit_code"]; engine.Format(got) != tt.exit {
				t.Errorf("exit_code: got %v, want %s", got, tt.exit)
			}
		})
	}
}

func TestCommandTruncatesStdoutOutput(t *testing.T) {
	t.Parallel()
	ev := enginetest.NewEvidence()
	const size = 200000
	out, err := run(t, context.Background(), engine.Params{"argv": argv("sh", "-c", "head -c 200000 /dev/zero | tr '\\000' a")}, ev)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	full := []byte(strings.Repeat("a", size))
	if got := out["stdout"].(string); len(got) != 64<<10 || got != string(full[:64<<10]) {
		t.Errorf("stdout: got %d bytes, want the first %d", len(got), 64<<10)
	}
	if out["stdout_truncated"] != true {
		t.Errorf("stdout_truncated: got %v, want true", out["stdout_truncated"])
	}
	stored, _ := ev.Object("stdout.txt")
	art, _, _ := ev.Artifact("stdout.txt")
	if len(stored) != size || out["stdout_sha256"] != enginetest.SHA256(full) || art.SHA256 != enginetest.SHA256(full) {
		t.Errorf("artifact: got %d bytes sha %s, want %d bytes sha %s", len(stored), art.SHA256, size, enginetest.SHA256(full))
	}
}

func TestCommandProgramNotFound(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, prog, want string }{
		{"on PATH", "firebreak-no-such-tool", `program not found: "firebreak-no-such-tool" is not in PATH`},
		{"by path", "./firebreak-no-such-tool", `program not found: "./firebreak-no-such-tool"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, context.Background(), engine.Params{"argv": argv(tt.prog, "-x")}, nil)
			if !errors.Is(err, ErrProgramNotFound) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Run: got %v, want ErrProgramNotFound starting %q", err, tt.want)
			}
			if engine.IsRetryable(err) {
				t.Errorf("Run: a missing program was marked retryable")
			}
		})
	}
}

func TestCommandBadParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params engine.Params
		want   string
	}{
		{"no argv", engine.Params{"argv": []any{}}, "argv is empty: give the program and its arguments as a list, e.g. [uname, -a]"},
		{"nested argv", engine.Params{"argv": []any{"ls", []any{"-l"}}}, "argv[1] is list: each item must be a string"},
		{"bad exit code", engine.Params{"argv": argv("true"), "ok_exit_codes": []any{"one"}}, `ok_exit_codes[0]: want int, got string "one"`},
		{"bad env name", engine.Params{"argv": argv("true"), "env": map[string]any{"A=B": "x"}}, `env: bad variable name "A=B": use a name without '=' or NUL`},
		{"missing dir", engine.Params{"argv": argv("true"), "dir": "/nonexistent-firebreak"}, `dir "/nonexistent-firebreak": no such file or directory; create it or fix the path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, context.Background(), tt.params, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Run: got %v, want %q", err, tt.want)
			}
		})
	}
}
