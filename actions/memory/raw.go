package memory

import (
	"context"
	"strconv"
	"strings"
)

// openRaw streams p.Source with dd over an exec session. The expected size
// is, in order: expected_size; the source's size when it is a regular file
// or a block device (exact); else the target's MemTotal, which is only
// approximate for a memory device such as /dev/crash (the physical address
// space is larger than MemTotal), so it is used as a lower bound: fewer
// bytes fail the capture, more are accepted. Only expected_size makes a raw
// capture of a memory device exact.
func openRaw(ctx context.Context, r remote, p *params) (*source, error) {
	src := &source{Ext: ".raw", Facts: map[string]any{"source": p.Source}}
	switch {
	case p.ExpectedSize > 0:
		src.Expected, src.ExpectedFrom = p.ExpectedSize, "expected_size"
	default:
		if n, kind := rawSize(ctx, r, p.Source); n > 0 {
			src.Expected, src.ExpectedFrom = n, kind
		} else if mt, err := memTotal(ctx, r); err == nil {
			src.Expected, src.Approx, src.ExpectedFrom = mt, true, "meminfo (approximate: a lower bound)"
		} else {
			return nil, err
		}
	}
	cmd := r.priv("dd if=" + shellQuote(p.Source) + " bs=1M status=none")
	src.Facts["command"] = cmd
	out, abort, wait, err := r.streamCmd(cmd)
	if err != nil {
		return nil, err
	}
	src.R, src.Abort, src.Wait = out, abort, wait
	return src, nil
}

// rawSize is the exact size of a regular file or block device, or 0.
func rawSize(ctx context.Context, r remote, path string) (int64, string) {
	out, err := r.output(ctx, "stat -L -c '%F %s' -- "+shellQuote(path), nil)
	if err != nil {
		return 0, ""
	}
	f := strings.Fields(strings.TrimSpace(out))
	if len(f) < 2 {
		return 0, ""
	}
	kind := strings.Join(f[:len(f)-1], " ")
	switch kind {
	case "regular file":
		n, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
		return n, "stat (regular file)"
	case "block special file":
		out, err := r.output(ctx, r.priv("blockdev --getsize64 "+shellQuote(path)), nil)
		if err != nil {
			return 0, ""
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		return n, "blockdev"
	}
	return 0, ""
}
