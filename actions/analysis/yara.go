package analysis

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// YaraMatch is one match in a yara-matches JSON artifact: one string of
// a rule found at one offset, or a rule that matched without strings.
type YaraMatch struct {
	Rule      string `json:"rule"`
	Namespace string `json:"namespace"` // the rules file (f0_name), "inline" or "indicators"
	String    string `json:"string,omitempty"`
	// Offset is the byte offset in the scanned image or device; -1 for a
	// rule that matched without a string.
	Offset int64  `json:"offset"`
	Length int    `json:"length,omitempty"`
	Data   string `json:"data,omitempty"` // as YARA prints it (non-printable bytes escaped), cut to 256 bytes
	// Indicator is the finding's address or domain an indicator rule's
	// string stands for.
	Indicator string `json:"indicator,omitempty"`
	// PhysicalAddress is where the match lies in the host's physical
	// memory (LiME images); absent when unknown or inside a LiME header.
	PhysicalAddress *uint64 `json:"physical_address,omitempty"`
}

// YaraReport is a yara-matches JSON artifact.
type YaraReport struct {
	Target string `json:"target"`
	Host   string `json:"host"`
	// Rules are the rule sources: namespace -> file path, "inline" or
	// "indicators".
	Rules      map[string]string `json:"rules"`
	Indicators Indicators        `json:"indicators"`
	// Count is every match YARA reported; Matches holds the first
	// max_matches of them (Truncated says so).
	Count     int         `json:"count"`
	Truncated bool        `json:"truncated"`
	Matches   []YaraMatch `json:"matches"`
	// Window is the size of the windows a device was scanned in (0: the
	// target was scanned whole).
	Window int64 `json:"window,omitempty"`
}

// yaraScan runs YARA on one target and gathers its matches.
type yaraScan struct {
	h          host
	rules      []string          // "ns:path" on the host
	ids        map[string]string // indicator rule's string id -> indicator
	max        int
	report     *YaraReport
	noStrSeen  map[string]bool
	cur        *ruleState
	windowBase int64 // offset of the current window
	windowKeep int64 // matches at or past this relative offset belong to the next window; 0 = keep all
}

func (s *yaraScan) argv(target string) []string {
	return append(append([]string{"yara", "-e", "-s", "-L", "-w"}, s.rules...), target)
}

// file scans a regular file whole (YARA maps it; nothing is read here).
func (s *yaraScan) file(ctx context.Context, target string) error {
	defer s.flush()
	return s.h.run(ctx, s.argv(target), &lineWriter{fn: s.line})
}

// windowScript copies one window of a device to a private temporary
// file on the host and scans that. YARA maps files by their size, and a
// block device has none: scanned directly it would match nothing and say
// nothing.
const windowScript = `t=$(mktemp "${TMPDIR:-/var/tmp}/firebreak-yara-XXXXXXXXXX") || exit 1
trap 'rm -f "$t"' EXIT
dev=$1 off=$2 n=$3; shift 3
dd if="$dev" of="$t" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$n" status=none || exit 1
yara "$@" "$t"`

// yaraOverlap is how far each window reaches into the next, so that a
// string crossing a window's end is still seen whole (one up to this long).
const yaraOverlap = 1 << 20

// windows scans size bytes of a device in windows of w bytes.
func (s *yaraScan) windows(ctx context.Context, device string, size, w int64) error {
	s.report.Window = w
	for off := int64(0); off < size; off += w {
		n := min(w+yaraOverlap, size-off)
		s.windowBase, s.windowKeep = off, 0
		if off+w < size {
			s.windowKeep = w
		}
		argv := append([]string{"sh", "-c", windowScript, "firebreak", device, strconv.FormatInt(off, 10), strconv.FormatInt(n, 10),
			"-e", "-s", "-L", "-w"}, s.rules...)
		err := s.h.run(ctx, argv, &lineWriter{fn: s.line})
		s.flush()
		if err != nil {
			return fmt.Errorf("scanning %s at offset %d: %w", device, off, err)
		}
	}
	s.windowBase, s.windowKeep = 0, 0
	return nil
}

// line reads one line of YARA's output: "ns:rule target", then
// "0xOFFSET:LENGTH:$id: data" for each string match of that rule.
func (s *yaraScan) line(line string) {
	if !strings.HasPrefix(line, "0x") {
		s.flush()
		ns, rule, _ := strings.Cut(strings.Fields(line + " ")[0], ":")
		if rule == "" {
			ns, rule = "", ns
		}
		s.cur = &ruleState{rule: rule, ns: ns}
		return
	}
	m, ok := parseStringMatch(line)
	if !ok || s.cur == nil {
		return
	}
	s.cur.strings++
	if s.windowKeep > 0 && m.Offset >= s.windowKeep {
		return // the next window reports it
	}
	m.Rule, m.Namespace, m.Offset = s.cur.rule, s.cur.ns, m.Offset+s.windowBase
	if m.Namespace == "indicators" {
		m.Indicator = s.ids[m.String]
	}
	s.add(m)
}

// ruleState is the rule whose string matches YARA is printing.
type ruleState struct {
	rule, ns string
	strings  int
}

// flush ends the current rule: one that matched without any string (a
// condition on the file alone) is reported once, whatever the windows.
func (s *yaraScan) flush() {
	c := s.cur
	s.cur = nil
	if c == nil || c.strings > 0 || s.noStrSeen[c.ns+":"+c.rule] {
		return
	}
	s.noStrSeen[c.ns+":"+c.rule] = true
	s.add(YaraMatch{Rule: c.rule, Namespace: c.ns, Offset: -1})
}

// add counts a match and keeps it while there is room.
func (s *yaraScan) add(m YaraMatch) {
	s.report.Count++
	if len(s.report.Matches) < s.max {
		s.report.Matches = append(s.report.Matches, m)
	} else {
		s.report.Truncated = true
	}
}

func parseStringMatch(line string) (YaraMatch, bool) {
	parts := strings.SplitN(line, ":", 4)
	if len(parts) < 4 {
		return YaraMatch{}, false
	}
	off, err1 := strconv.ParseInt(strings.TrimPrefix(parts[0], "0x"), 16, 64)
	n, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || !strings.HasPrefix(parts[2], "$") {
		return YaraMatch{}, false
	}
	data := strings.TrimPrefix(parts[3], " ")
	if len(data) > 256 {
		data = data[:256]
	}
	return YaraMatch{String: parts[2], Offset: off, Length: n, Data: data}, true
}

// lineWriter calls fn for each complete line written to it; a line longer
// than 64 KiB is cut there.
type lineWriter struct {
	fn  func(string)
	buf bytes.Buffer
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if room := 64<<10 - w.buf.Len(); room > 0 {
				w.buf.Write(p[:min(len(p), room)])
			}
			break
		}
		if room := 64<<10 - w.buf.Len(); room > 0 {
			w.buf.Write(p[:min(i, room)])
		}
		w.fn(w.buf.String())
		w.buf.Reset()
		p = p[i+1:]
	}
	return n, nil
}

var _ io.Writer = (*lineWriter)(nil)
