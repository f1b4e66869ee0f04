package memory

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/firebreak-ir/firebreak/internal/sshconn"
)

// iomemLayout is the target's physical RAM as /proc/iomem lists it: the
// top-level "System RAM" ranges, which are exactly what LiME dumps and
// what AVML reads.
type iomemLayout struct {
	Ranges []LimeRange
	Err    string // why the layout is unknown ("" when Ranges is set)
}

// wireSize is a LiME image of these ranges: each range plus its header.
func (l iomemLayout) wireSize() int64 {
	var n int64
	for _, r := range l.Ranges {
		n += limeHeaderSize + int64(r.End-r.Start+1)
	}
	return n
}

// facts is what outputs and custody keep of the layout.
func (l iomemLayout) facts() map[string]any {
	if l.Err != "" {
		return map[string]any{"iomem": "unreadable: " + l.Err + "; completeness checked by the stream's own framing only"}
	}
	return map[string]any{"iomem": "read", "iomem_ram_ranges": len(l.Ranges), "iomem_ram_bytes": l.wireSize() - int64(len(l.Ranges))*limeHeaderSize}
}

// readIomem reads path (normally /proc/iomem) on the target, with sudo
// when sudo is on: without root the kernel shows every address as zero,
// which is reported as unknown, never as a layout.
func readIomem(ctx context.Context, r sshconn.Remote, path string) iomemLayout {
	out, err := r.Output(ctx, r.Priv("cat "+sshconn.ShellQuote(path)), nil)
	if err != nil {
		return iomemLayout{Err: err.Error()}
	}
	ranges, err := parseIomem(out)
	if err != nil {
		return iomemLayout{Err: err.Error()}
	}
	return iomemLayout{Ranges: ranges}
}

// parseIomem takes the top-level (unindented) "System RAM" lines, in the
// file's (ascending) order.
func parseIomem(text string) ([]LimeRange, error) {
	var ranges []LimeRange
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		span, name, ok := strings.Cut(line, " : ")
		if !ok || strings.TrimSpace(name) != "System RAM" {
			continue
		}
		a, b, ok := strings.Cut(strings.TrimSpace(span), "-")
		start, err1 := strconv.ParseUint(a, 16, 64)
		end, err2 := strconv.ParseUint(b, 16, 64)
		if !ok || err1 != nil || err2 != nil || end < start {
			return nil, fmt.Errorf("iomem line %q is not START-END", line)
		}
		if start == 0 && end == 0 {
			return nil, fmt.Errorf("addresses hidden (all zero): reading it needs root")
		}
		if n := len(ranges); n > 0 && start <= ranges[n-1].End {
			return nil, fmt.Errorf("iomem System RAM ranges overlap or are out of order at %q", line)
		}
		ranges = append(ranges, LimeRange{Start: start, End: end})
	}
	if len(ranges) == 0 {
		return nil, fmt.Errorf("no System RAM range listed")
	}
	return ranges, nil
}
