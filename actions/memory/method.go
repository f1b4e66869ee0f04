package memory

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// source is an open memory stream from the target.
type source struct {
	R io.Reader
	// Abort closes the channel under R.
	Abort func()
	// Wait, after R's EOF, reports whether the remote side ended well (the
	// exit status of dd, avml or insmod); failed says the copy already
	// failed, so it need not wait long. It may be nil.
	Wait func(failed bool) error
	// Expected is the size on the wire, 0 when only the LiME headers can
	// tell; Approx makes it a lower bound. ExpectedFrom says where it came
	// from, for the custody log.
	Expected     int64
	Approx       bool
	ExpectedFrom string
	// Max, when set, bounds the stream from above whatever Expected says:
	// a hostile target cannot fill the sinks.
	Max int64
	// Layout is the RAM layout LiME's headers must match (nil: unknown).
	Layout []LimeRange
	Lime   bool // the stream is in LiME format: check its headers
	Ext    string
	Facts  map[string]any // tool versions, module hash, commands
}

// setLayout applies the target's RAM layout to a LiME-format source:
// exact (lime: headers must match, size is known) or an upper bound
// (avml). Without a layout only the LiME framing is checked, and the
// facts say so.
func (s *source) setLayout(l iomemLayout, expectedSize int64, exact bool) {
	for k, v := range l.facts() {
		s.Facts[k] = v
	}
	if l.Err == "" {
		s.Max = l.wireSize()
		if exact {
			s.Layout = l.Ranges
		}
	}
	switch {
	case expectedSize > 0:
		s.Expected, s.ExpectedFrom = expectedSize, "expected_size"
	case l.Err == "" && exact:
		s.Expected, s.ExpectedFrom = l.wireSize(), "iomem"
	default:
		s.ExpectedFrom = "lime-headers"
	}
}

// cleanups are undo steps (rmmod, removing uploaded files) that must run
// whatever happened, latest first. Each gets the remote to run on, so that
// steps that failed on a dead connection can be run again on a new one.
type cleanups struct {
	steps []cleanupStep
}

type cleanupStep struct {
	what string
	fn   func(ctx context.Context, r sshconn.Remote) error
}

func (c *cleanups) add(what string, fn func(ctx context.Context, r sshconn.Remote) error) {
	c.steps = append(c.steps, cleanupStep{what, fn})
}

// run runs every step on r, latest first, and returns the steps that
// failed (in the same order, to run again) and what went wrong.
func (c *cleanups) run(ctx context.Context, r sshconn.Remote) (*cleanups, []string) {
	failed := &cleanups{}
	var msgs []string
	for i := len(c.steps) - 1; i >= 0; i-- {
		if err := c.steps[i].fn(ctx, r); err != nil {
			failed.steps = append([]cleanupStep{c.steps[i]}, failed.steps...)
			msgs = append(msgs, c.steps[i].what+": "+err.Error())
		}
	}
	return failed, msgs
}

// openMethod starts the stream for p.Method.
func openMethod(ctx context.Context, r sshconn.Remote, p *params, cl *cleanups) (*source, error) {
	switch p.Method {
	case "lime":
		return openLime(ctx, r, p, cl)
	case "avml":
		return openAvml(ctx, r, p, cl)
	case "raw":
		return openRaw(ctx, r, p)
	}
	return nil, fmt.Errorf("method %q is unknown: use lime, avml or raw", p.Method)
}

// How long a capture waits for the remote command (dd, avml) to exit once
// its stream ended: after a whole stream, for its exit status; after a
// failed one (a stall, a short stream), only for the status that may say
// why. The session is closed by then; a command that ignores that, or a
// hung host, would otherwise hold the step for as long as it lives.
const (
	remoteWaitAfterStream = 10 * time.Second
	remoteWaitAfterFailed = 2 * time.Second
)

// remoteExit starts waiting for a streaming command's exit at once (wait,
// from sshconn's StreamCmd; it returns when the connection closes at the
// latest) and returns a bounded wait on it: the result in words for the
// custody record, and the command's failure.
func remoteExit(wait func() error) func(failed bool) (string, error) {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	return func(failed bool) (string, error) {
		limit := remoteWaitAfterStream
		if failed {
			limit = remoteWaitAfterFailed
		}
		t := time.NewTimer(limit)
		defer t.Stop()
		select {
		case err := <-done:
			if err != nil {
				return err.Error(), err
			}
			return "exited 0", nil
		case <-t.C:
			return fmt.Sprintf("not waited for: still running %s after the stream ended (its session is closed)", limit), nil
		}
	}
}

// waitRemote makes s.Wait a bounded wait for the streaming command,
// recording its result as the remote_result fact.
func (s *source) waitRemote(wait func() error) {
	exit := remoteExit(wait)
	s.Wait = func(failed bool) error {
		res, err := exit(failed)
		s.Facts["remote_result"] = res
		return err
	}
}
