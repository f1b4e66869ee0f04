package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"syscall"

	"github.com/firebreak-ir/firebreak/engine"
)

const (
	stdoutMax  = 64 << 10 // bytes of stdout kept in the step's outputs
	stderrTail = 4 << 10  // bytes of stderr kept in the step's outputs
)

// command runs a local program, never through a shell, and keeps what it
// printed as hashed artifacts.
type command struct{}

var _ engine.Action = (*command)(nil)
var _ engine.Planner = (*command)(nil)

func (*command) Spec() engine.ActionSpec {
	return engine.ActionSpec{
		Name:    "command",
		Summary: "run a local program (no shell) and keep its stdout and stderr as evidence",
		Params:  engine.ParamsOf[commandDecl](),
		Outputs: []engine.Output{
			{Name: "exit_code", Type: engine.TypeInt, Doc: "the exit code, -1 when killed by a signal"},
			{Name: "stdout", Type: engine.TypeString, Doc: "the first 64 KiB of stdout, surrounding space trimmed; the whole of it is the stdout artifact"},
			{Name: "stdout_truncated", Type: engine.TypeBool, Doc: "stdout was longer than 64 KiB"},
			{Name: "stdout_sha256", Type: engine.TypeString, Doc: "SHA-256 of the whole stdout"},
			{Name: "stderr_tail", Type: engine.TypeString, Doc: "the last 4 KiB of stderr, trimmed"},
		},
		// A program can do anything: --dry-run must not run it.
		Mutating: true,
	}
}

// Run starts the program in its own process group and waits for it; ctx's
// end (the step's timeout, the run's cancellation) stops the whole group.
func (c *command) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	p, err := parseParams(in.Params, in.SecretEnv)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%q not started: %w", p.argv[0], context.Cause(ctx))
	}
	path, err := lookPath(p.argv[0], envValue(p.env, "PATH"), p.dir)
	if err != nil {
		return nil, err
	}
	sweep(ctx, in) // what an earlier, crashed firebreak on this run left running
	cmd := newCmd(path, p)
	out, errs := &head{max: stdoutMax}, &tail{max: stderrTail}
	note := noteStarting(in, p.argv[0])
	streams, done, err := startWithStreams(ctx, cmd, in, p.argv, out, errs, note.started)
	if err != nil {
		note.done()
		return nil, fmt.Errorf("starting %q: %w", p.argv[0], err)
	}
	pid := cmd.Process.Pid
	logger(in).Debug("command started", "program", p.argv[0], "pid", pid)
	_ = in.Evidence.Event(context.WithoutCancel(ctx), "process.started", map[string]any{"program": p.argv[0], "pid": pid, "pgid": pid})
	stopped, waitErr := waitGroupLeader(ctx, pid, done, p.grace)
	note.done() // the group is gone: nothing is left for a resume to end
	awaitStreams(streams, p.grace)

	code, signal := -1, ""
	if cmd.ProcessState != nil {
		code, signal = exitStatus(cmd.ProcessState)
	}
	outputs := engine.Outputs{
		"exit_code":        code,
		"stdout":           strings.TrimSpace(validUTF8(out.buf)),
		"stdout_truncated": out.truncated(),
		"stdout_sha256":    streams[0].sha256(),
		"stderr_tail":      strings.TrimSpace(validUTF8(errs.buf)),
	}
	recErr := c.record(ctx, in, p, code, signal, stopped, streams)
	if err := outcome(ctx, p, stopped, waitErr, code, signal, errs); err != nil {
		return outputs, err
	}
	// Output that could not be stored is lost evidence: the step failed.
	return outputs, errors.Join(streams[0].err, streams[1].err, recErr)
}

// newCmd prepares the program in a process group of its own, so that
// stopping the step can reach everything it started, and (on Linux) to be
// killed should firebreak die without stopping it (startGroup).
func newCmd(path string, p *commandParams) *exec.Cmd {
	cmd := exec.Command(path, p.argv[1:]...)
	cmd.Args[0] = p.argv[0] // as written, not the resolved path
	cmd.Dir, cmd.Env = p.dir, p.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	cmd.WaitDelay = p.grace // bounds the stdin copy, should the program not read it
	if p.stdin != "" {
		cmd.Stdin = strings.NewReader(p.stdin)
	}
	return cmd
}

func logger(in *engine.StepInput) *slog.Logger {
	if in.Log != nil {
		return in.Log
	}
	return slog.New(slog.DiscardHandler)
}
