package memory

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// sink is one place a memory image is written to. Write is called from one
// goroutine. Finish ends the object exactly once: complete=false keeps what
// was written, marked partial (a *.partial file, a tagged S3 object), never
// passed off as a whole image.
type sink interface {
	io.Writer
	Finish(ctx context.Context, complete bool, want storedSum) (stored, error)
	// abandon ends a sink that never received the image (a later sink
	// failed to open): it leaves nothing behind.
	abandon(ctx context.Context)
}

// storedSum is the hash and size of the bytes handed to the sinks (after
// compression), which a sink checks its copy against.
type storedSum struct {
	SHA256 string
	Size   int64
}

// stored is where a sink put the image.
type stored struct {
	URI       string
	VersionID string
	Meta      map[string]any
}

// s3Scheme is the scheme of S3 sinks.
const s3Scheme = "s3"

// parseSink reads a `sinks` entry with the evidence location parser: an
// absolute directory (/DIR, ~/DIR, file:///DIR) or s3://BUCKET[/PREFIX].
func parseSink(raw string) (evidence.Location, error) {
	if rest, ok := strings.CutPrefix(raw, "file://~/"); ok {
		raw = "~/" + rest // a home directory was always taken here
	}
	loc, err := evidence.ParseLocation(raw)
	if err != nil {
		return evidence.Location{}, fmt.Errorf("sink: %w", err)
	}
	switch {
	case loc.IsLocal():
		loc.Path = sshconn.ExpandHome(loc.Path)
		if !filepath.IsAbs(loc.Path) {
			return evidence.Location{}, fmt.Errorf("sink %q: want an absolute directory: write file:///DIR or /DIR", raw)
		}
	case loc.Scheme != s3Scheme:
		return evidence.Location{}, fmt.Errorf("sink %q: unknown scheme, want file://DIR or s3://BUCKET/PREFIX", raw)
	}
	return loc, nil
}
