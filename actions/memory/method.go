package memory

import (
	"context"
	"fmt"
	"io"

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
