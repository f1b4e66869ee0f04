// Package analysis holds the actions that analyse what was collected:
// analyze-disk (partitions, a file system timeline with deleted entries
// marked, a YARA sweep of the device) and analyze-memory (a YARA sweep of
// a memory image, LiME offsets mapped to physical addresses). The tools
// (The Sleuth Kit's mmls and fls, yara) run on this machine or on the
// forensic workstation over SSH; what they print streams into hashed
// evidence, and no image is ever read into memory.
package analysis

import (
	"context"
	"io"

	"github.com/firebreak-ir/firebreak/engine"
)

// URIOpener reads an object named by a URI; *evidence.Schemes is one.
type URIOpener interface {
	OpenURI(ctx context.Context, uri string) (io.ReadCloser, error)
}

// Options configure the family.
type Options struct {
	// OpenURI opens an image that is not a local file (s3://) for
	// analyze-memory, as verify reads artifacts held elsewhere; nil
	// refuses such images with a clear error.
	OpenURI URIOpener
}

// Register adds analyze-disk and analyze-memory to r.
func Register(r *engine.Registry, o Options) {
	r.Register(&disk{})
	r.Register(&memoryScan{open: o.OpenURI})
}
