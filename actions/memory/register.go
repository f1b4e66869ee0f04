// Package memory is the capture-memory action: it streams a Linux host's
// physical memory over SSH (LiME, AVML or a raw device) into files, S3 or
// the run's evidence store, hashing as it goes, and reports a capture as
// complete only when every byte the target announced has arrived.
package memory

import (
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// Options configure the action beyond its parameters.
type Options struct {
	// S3 is the client for s3:// sinks; nil leaves them unusable (a clear
	// error at run time).
	S3 S3API
	// Progress reports bytes, rate and ETA; nil writes log lines. The CLI
	// sets progress bars here when a terminal is attached.
	Progress Progress
}

// Register adds capture-memory to r. s3 may be nil.
func Register(r *engine.Registry, s3 S3API) {
	r.Register(New(Options{S3: s3}))
}

// New returns the capture-memory action.
func New(o Options) engine.Action {
	return &capture{s3: o.S3, progress: o.Progress, now: time.Now}
}
