package memory

import (
	"context"
	"fmt"
	"io"
)

// source is an open memory stream from the target.
type source struct {
	R io.Reader
	// Abort closes the channel under R.
	Abort func()
	// Wait, after R's EOF, reports whether the remote side ended well (the
	// exit status of dd or avml). It may be nil.
	Wait func() error
	// Expected is the size on the wire, 0 when only the LiME headers can
	// tell; Approx makes it a lower bound. ExpectedFrom says where it came
	// from, for the custody log.
	Expected     int64
	Approx       bool
	ExpectedFrom string
	Lime         bool // the stream is in LiME format: check its headers
	Ext          string
	Facts        map[string]any // tool versions, module hash, commands
}

// cleanups are undo steps (rmmod, removing uploaded files) that must run
// whatever happened, latest first.
type cleanups struct {
	steps []cleanupStep
}

type cleanupStep struct {
	what string
	fn   func(ctx context.Context) error
}

func (c *cleanups) add(what string, fn func(ctx context.Context) error) {
	c.steps = append(c.steps, cleanupStep{what, fn})
}

// run runs every step, latest first, and returns what failed.
func (c *cleanups) run(ctx context.Context) []string {
	var failed []string
	for i := len(c.steps) - 1; i >= 0; i-- {
		if err := c.steps[i].fn(ctx); err != nil {
			failed = append(failed, c.steps[i].what+": "+err.Error())
		}
	}
	return failed
}

// openMethod starts the stream for p.Method.
func openMethod(ctx context.Context, r remote, p *params, cl *cleanups) (*source, error) {
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
