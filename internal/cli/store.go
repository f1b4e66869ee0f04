package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// openS3Store opens an s3:// evidence store. It is set by store_s3.go, kept
// apart so the S3 wiring can change without touching the local path.
var openS3Store func(ctx context.Context, st *cliState, uri string) (evidence.Store, error)

// openStore opens the evidence store at loc: a local directory (made when
// missing) or s3://BUCKET/PREFIX.
func (st *cliState) openStore(ctx context.Context, loc string) (evidence.Store, error) {
	if strings.HasPrefix(loc, "s3://") {
		if openS3Store == nil {
			return nil, fmt.Errorf("evidence store %q: this build has no S3 support; use a local --evidence DIR", loc)
		}
		return openS3Store(ctx, st, loc)
	}
	if strings.Contains(loc, "://") {
		return nil, fmt.Errorf("evidence store %q: want a directory or s3://BUCKET/PREFIX", loc)
	}
	abs, err := filepath.Abs(loc)
	if err != nil {
		return nil, fmt.Errorf("evidence dir %q: %w", loc, err)
	}
	s, err := evidence.NewDirStore(abs)
	if err != nil {
		return nil, fmt.Errorf("evidence dir %q: %w", loc, err)
	}
	return s, nil
}

// subLocation is the store location of a sub-directory: each --targets run
// gets its own under the batch's case.
func subLocation(loc, sub string) string {
	if strings.HasPrefix(loc, "s3://") {
		return strings.TrimSuffix(loc, "/") + "/" + sub
	}
	return filepath.Join(loc, sub)
}

// absLocation makes a local store location absolute, so that a resume from
// another working directory finds the same evidence.
func absLocation(loc string) string {
	if strings.Contains(loc, "://") {
		return loc
	}
	if abs, err := filepath.Abs(loc); err == nil {
		return abs
	}
	return loc
}

// caseLocation names a key for the responder: a plain path for a local
// store, the store's URI otherwise.
func caseLocation(store evidence.Store, key string) string {
	if d, ok := store.(*evidence.DirStore); ok {
		return filepath.Join(d.Root(), filepath.FromSlash(key))
	}
	return store.URI(key)
}
