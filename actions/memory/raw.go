package memory

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// rawMarker ends the size preamble that the raw command prints before the
// data, so that sizing and streaming take one SSH session, not two.
const rawMarker = "--firebreak-raw-data--"

// openRaw streams p.Source with dd over an exec session. The expected size
// is, in order: expected_size; the source's size when it is a regular file
// or a block device (exact); else the target's MemTotal, which is only
// approximate for a memory device such as /dev/crash (the physical address
// space is larger than MemTotal), so it is used as a lower bound: fewer
// bytes fail the capture, more are accepted. Only expected_size makes a raw
// capture of a memory device exact.
func openRaw(ctx context.Context, r sshconn.Remote, p *params) (*source, error) {
	q := sshconn.ShellQuote(p.Source)
	dd := r.Priv("dd if=" + q + " bs=1M status=none")
	cmd := fmt.Sprintf("stat -L -c 'stat:%%F:%%s' -- %[1]s 2>/dev/null; "+
		"if [ -b %[1]s ]; then %[2]s 2>/dev/null | sed 's/^/blockdev:/'; fi; "+
		"grep -m1 '^MemTotal:' /proc/meminfo 2>/dev/null; echo %[3]s; exec %[4]s",
		q, r.Priv("blockdev --getsize64 "+q), rawMarker, dd)
	out, abort, wait, err := r.StreamCmd(cmd)
	if err != nil {
		return nil, err
	}
	src := &source{Abort: abort, Ext: ".raw", Facts: map[string]any{"source": p.Source, "command": dd}}
	src.waitRemote(wait)
	br := bufio.NewReaderSize(out, 64<<10)
	pre, err := readPreamble(br)
	if err != nil {
		abort()
		if werr := src.Wait(true); werr != nil {
			err = fmt.Errorf("%w; %v", err, werr)
		}
		return nil, err
	}
	src.R = br
	switch {
	case p.ExpectedSize > 0:
		src.Expected, src.ExpectedFrom = p.ExpectedSize, "expected_size"
	case pre.size > 0:
		src.Expected, src.ExpectedFrom = pre.size, pre.from
	case pre.memTotal > 0:
		src.Expected, src.Approx, src.ExpectedFrom = pre.memTotal, true, "meminfo (approximate: a lower bound)"
		// A memory device is addressed physically: nothing past the end of
		// the last System RAM range is memory, so that bounds the stream.
		if l := readIomem(ctx, r, p.IomemPath); l.Err == "" {
			src.Max = int64(l.Ranges[len(l.Ranges)-1].End) + 1
			src.Facts["max_size_from"] = "iomem (end of the last System RAM range)"
		} else {
			src.Facts["max_size_from"] = "none: iomem unreadable: " + l.Err
		}
	default:
		abort()
		_ = src.Wait(true)
		return nil, fmt.Errorf("cannot tell the size of %q on the target (no stat, no MemTotal): give expected_size", p.Source)
	}
	return src, nil
}

type rawPreamble struct {
	size     int64 // exact: a regular file or block device
	from     string
	memTotal int64
}

// maxPreamble bounds what a target may print before the data.
const maxPreamble = 4 << 10

// readPreamble reads the size lines up to rawMarker, leaving br at the
// first byte of data. It reads at most maxPreamble bytes: a target that
// prints endlessly without a newline cannot grow memory.
func readPreamble(br *bufio.Reader) (rawPreamble, error) {
	var pre rawPreamble
	read := 0
	for range 16 {
		b, err := br.ReadSlice('\n')
		read += len(b)
		line := string(b)
		if read > maxPreamble || err == bufio.ErrBufferFull {
			return pre, fmt.Errorf("reading the raw size preamble: more than %d bytes before the data: does the user's login shell print to stdout?", maxPreamble)
		}
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("the target's shell ended before the data began (%q)", strings.TrimSpace(line))
			}
			return pre, fmt.Errorf("reading the raw size preamble: %w", err)
		}
		line = strings.TrimSpace(line)
		switch {
		case line == rawMarker:
			return pre, nil
		case strings.HasPrefix(line, "stat:regular file:"):
			pre.size, _ = strconv.ParseInt(strings.TrimPrefix(line, "stat:regular file:"), 10, 64)
			pre.from = "stat (regular file)"
		case strings.HasPrefix(line, "blockdev:"):
			pre.size, _ = strconv.ParseInt(strings.TrimPrefix(line, "blockdev:"), 10, 64)
			pre.from = "blockdev"
		case strings.HasPrefix(line, "MemTotal:"):
			if f := strings.Fields(line); len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				pre.memTotal = kb * 1024
			}
		}
	}
	return pre, fmt.Errorf("reading the raw size preamble: no %q line: does the user's login shell print to stdout?", rawMarker)
}
