// Package analysis holds the actions that analyse what was collected:
// analyze-disk (partitions, a file system timeline with deleted entries
// marked, a YARA sweep of the device) and analyze-memory (a YARA sweep of
// a memory image, LiME offsets mapped to physical addresses). The tools
// (The Sleuth Kit's mmls and fls, yara) run on this machine or on the
// forensic workstation over SSH; what they print streams into hashed
// evidence, and no image is ever read into memory.
package analysis

import "github.com/firebreak-ir/firebreak/engine"

// Options configure the family.
type Options struct {
	// OpenURI opens an s3:// image for analyze-memory; nil refuses s3://
	// images with a clear error.
	OpenURI URIOpener
}

// Register adds analyze-disk and analyze-memory to r.
func Register(r *engine.Registry, o Options) {
	r.Register(&disk{})
	r.Register(&memoryScan{open: o.OpenURI})
}
