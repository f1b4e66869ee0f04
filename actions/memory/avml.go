package memory

import (
	"context"
	"strings"

	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// openAvml uploads the local AVML binary, runs it writing to its stdout,
// and streams that. AVML writes LiME format, so the headers are checked as
// for lime. The uploaded binary is removed afterwards (cl).
func openAvml(ctx context.Context, r sshconn.Remote, p *params, cl *cleanups) (*source, error) {
	up, err := r.Upload(ctx, p.AvmlPath, "avml", 0o700)
	cl.add("remove uploaded avml "+up.Path, func(ctx context.Context, r sshconn.Remote) error { return r.RemoveUpload(ctx, up) })
	if err != nil {
		return nil, err
	}
	// AVML reads the same System RAM ranges, but may frame them its own
	// way: their LiME size bounds the stream rather than fixing it.
	layout := readIomem(ctx, r, p.IomemPath)
	version, _ := r.Output(ctx, r.Verified(up, up.Path, "--version"), nil)
	cmd := r.Verified(up, up.Path, "/dev/stdout")
	out, abort, wait, err := r.StreamCmd(cmd)
	if err != nil {
		return nil, err
	}
	src := &source{R: out, Abort: abort, Lime: true, Ext: ".lime",
		Facts: map[string]any{"avml_sha256": up.SHA256, "avml_size": up.Size, "avml_version": strings.TrimSpace(version),
			"remote_avml_path": up.Path, "command": cmd}}
	src.waitRemote(wait)
	src.setLayout(layout, p.ExpectedSize, false)
	return src, nil
}
