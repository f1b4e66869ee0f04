package memory

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

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

// sinkTarget is a parsed `sinks` entry.
type sinkTarget struct {
	Scheme string // "file" or "s3"
	Dir    string // file: the directory
	Bucket string // s3
	Prefix string // s3, without trailing slash
}

// parseSink reads "file://DIR", a bare absolute DIR, or "s3://BUCKET/PREFIX".
func parseSink(raw string) (sinkTarget, error) {
	if strings.HasPrefix(raw, "/") {
		return sinkTarget{Scheme: "file", Dir: raw}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return sinkTarget{}, fmt.Errorf("sink %q: %w", raw, err)
	}
	switch u.Scheme {
	case "file":
		dir := u.Path
		if u.Host != "" && u.Host != "localhost" {
			dir = u.Host + u.Path // file://relative/dir
		}
		if dir == "" {
			return sinkTarget{}, fmt.Errorf("sink %q names no directory: write file:///abs/dir", raw)
		}
		return sinkTarget{Scheme: "file", Dir: sshconn.ExpandHome(dir)}, nil
	case "s3":
		if u.Host == "" {
			return sinkTarget{}, fmt.Errorf("sink %q names no bucket: write s3://BUCKET/PREFIX", raw)
		}
		return sinkTarget{Scheme: "s3", Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}, nil
	}
	return sinkTarget{}, fmt.Errorf("sink %q: unknown scheme, want file://DIR or s3://BUCKET/PREFIX", raw)
}
