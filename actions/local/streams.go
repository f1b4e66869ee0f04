package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// startWithStreams starts cmd with its stdout and stderr on pipes, each
// streamed to the step's evidence while out and errs keep what the outputs
// need. The streams are stored with a context that the step's end does not
// cancel: the output of a command stopped by its timeout is the evidence a
// responder most wants.
// It returns startGroup's channel; started is called with the pid as soon
// as the program runs.
func startWithStreams(ctx context.Context, cmd *exec.Cmd, in *engine.StepInput, argv []string, out, errs io.Writer, started func(pid int)) ([]*stream, <-chan error, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	done, err := startGroup(cmd, started)
	// The child has its own copies; ours must go for the reader to see EOF.
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, nil, err
	}
	streams := []*stream{
		newStream(engine.ArtifactName("stdout", ".txt", in), "stdout", outR, out),
		newStream(engine.ArtifactName("stderr", ".txt", in), "stderr", errR, errs),
	}
	source := map[string]string{"command": strings.Join(argv, " ")}
	storeCtx := context.WithoutCancel(ctx)
	for _, s := range streams {
		go s.run(storeCtx, in.Evidence, source)
	}
	return streams, done, nil
}

// awaitStreams waits until both pipes ended. A writer that escaped the
// process group (setsid) could keep one open for ever: after grace the pipe
// is closed on it and the stream marked cut.
func awaitStreams(streams []*stream, grace time.Duration) {
	timer := time.NewTimer(grace)
	defer timer.Stop()
	for _, s := range streams {
		select {
		case <-s.done:
			continue
		case <-timer.C:
		}
		for _, s := range streams {
			s.close()
		}
		break
	}
	for _, s := range streams {
		<-s.done
	}
}

// outcome turns how the program ended into the step's error, nil when it
// succeeded.
func outcome(ctx context.Context, p *commandParams, stopped bool, waitErr error, code int, signal string, errs *tail) error {
	name := p.argv[0]
	if stopped {
		err := fmt.Errorf("%q stopped before it finished: %w", name, context.Cause(ctx))
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// A timeout is worth another try when the playbook allows one.
			return engine.Retryable(fmt.Errorf("%w; raise the step's timeout if it needs longer", err))
		}
		return err
	}
	var ee *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &ee) && !errors.Is(waitErr, exec.ErrWaitDelay) {
		return fmt.Errorf("waiting for %q: %w", name, waitErr)
	}
	if signal != "" {
		return fmt.Errorf("%q was killed by signal %q%s", name, signal, lastLine(errs))
	}
	if p.retryCodes[code] {
		return engine.Retryable(fmt.Errorf("%q exited with status %d%s, listed in retry_exit_codes", name, code, lastLine(errs)))
	}
	if !p.okCodes[code] {
		return fmt.Errorf("%q exited with status %d%s; if that status is expected, list it in ok_exit_codes", name, code, lastLine(errs))
	}
	return nil
}

// lastLine is stderr's last non-empty line, for the step's error.
func lastLine(errs *tail) string {
	s := strings.TrimSpace(validUTF8(errs.buf))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return ""
	}
	return fmt.Sprintf(" (stderr: %q)", s)
}

// record appends the command's end to the custody log: what ran, how it
// ended, and the hashes of what it printed.
func (c *command) record(ctx context.Context, in *engine.StepInput, p *commandParams, code int, signal string, stopped bool, streams []*stream) error {
	detail := map[string]any{
		"argv": p.argv, "dir": p.dir, "exit_code": code, "stopped": stopped,
		"stdout_sha256": streams[0].sha256(), "stderr_sha256": streams[1].sha256(),
	}
	if signal != "" {
		detail["signal"] = signal
	}
	for _, s := range streams {
		if s.cut {
			detail[s.kind+"_cut"] = true
		}
	}
	if err := in.Evidence.Event(context.WithoutCancel(ctx), "command-exited", detail); err != nil {
		return fmt.Errorf("recording the end of %q in the custody log: %w", p.argv[0], err)
	}
	return nil
}
