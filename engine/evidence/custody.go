package evidence

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// GenesisHash is the prev hash of a custody log's first line.
var GenesisHash = strings.Repeat("0", 64)

// Custody event names written by the evidence package itself; the runner
// and actions add their own ("step.started", "ec2.isolated", ...).
const (
	EventCaseOpened       = "case.opened"
	EventCaseResumed      = "case.resumed"
	EventCaseFinished     = "case.finished"
	EventArtifactStored   = "artifact.stored"
	EventArtifactRecorded = "artifact.recorded"
	// EventCustodyGap precedes the first line written after events that
	// could not be: detail "lost" (count) and "events" (their names).
	EventCustodyGap = "custody.gap"
)

// gapCount is the number of lost events a custody.gap line reports.
func gapCount(e Entry) int64 {
	if e.Event != EventCustodyGap {
		return 0
	}
	n, _ := e.Detail["lost"].(float64) // JSON numbers decode as float64
	return int64(n)
}

// gapNames lists the event names a custody.gap line reports.
func gapNames(e Entry) []string {
	list, _ := e.Detail["events"].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Entry is one line of custody.jsonl. Prev is the hex SHA-256 of the
// previous line's bytes (without its newline), so an edit, a deletion or a
// reordering anywhere breaks the chain after it.
type Entry struct {
	Seq      int64          `json:"seq"`
	Time     time.Time      `json:"time"`
	Actor    string         `json:"actor,omitempty"`
	Event    string         `json:"event"`
	Step     string         `json:"step,omitempty"`
	Detail   map[string]any `json:"detail,omitempty"`
	Artifact *ArtifactRef   `json:"artifact,omitempty"`
	Prev     string         `json:"prev"`
}

// ArtifactRef names an artifact in a custody line.
type ArtifactRef struct {
	ID     string `json:"id"`
	URI    string `json:"uri"`
	SHA256 string `json:"sha256,omitempty"`
}

// lineHash is the hash a following line carries as its prev.
func lineHash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// parsedLine is a custody line as read back, with the full artifact that
// artifact.* events carry in detail.artifact.
type parsedLine struct {
	No       int // 1-based line number
	Raw      []byte
	Entry    Entry
	Artifact *engine.Artifact
	Err      error // the line is not valid JSON
}

// readCustody reads every line of a custody log without judging it.
// Lines are bounded only by memory; a custody line is a few hundred bytes.
func readCustody(r io.Reader) ([]parsedLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	var lines []parsedLine
	for sc.Scan() {
		raw := append([]byte(nil), sc.Bytes()...)
		pl := parsedLine{No: len(lines) + 1, Raw: raw}
		pl.Err = json.Unmarshal(raw, &pl.Entry)
		if pl.Err == nil && isArtifactEvent(pl.Entry.Event) {
			var d struct {
				Detail struct {
					Artifact *engine.Artifact `json:"artifact"`
				} `json:"detail"`
			}
			if err := json.Unmarshal(raw, &d); err == nil {
				pl.Artifact = d.Detail.Artifact
			}
		}
		lines = append(lines, pl)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return lines, nil
}

func isArtifactEvent(ev string) bool {
	return ev == EventArtifactStored || ev == EventArtifactRecorded
}

// chainProblems checks seq order and prev hashes and returns one message
// per break, naming the line.
func chainProblems(lines []parsedLine) []string {
	var out []string
	prevHash, prevSeq := GenesisHash, int64(0)
	for i, l := range lines {
		if l.Err != nil {
			out = append(out, fmt.Sprintf("custody line %d: not valid JSON: %v", l.No, l.Err))
		} else {
			// A seq that follows its predecessor, or that matches its own
			// position, is in order: one swap or deletion is reported once.
			if l.Entry.Seq != prevSeq+1 && l.Entry.Seq != int64(l.No) {
				out = append(out, fmt.Sprintf("custody line %d: seq %d follows seq %d (a line is missing or out of order)", l.No, l.Entry.Seq, prevSeq))
			}
			if l.Entry.Prev != prevHash {
				if i == 0 {
					out = append(out, fmt.Sprintf("custody line 1: prev hash is not the start of a chain (%s)", GenesisHash[:8]+"..."))
				} else {
					out = append(out, fmt.Sprintf("custody line %d: prev hash does not match line %d", l.No, l.No-1))
				}
			}
			prevSeq = l.Entry.Seq
		}
		prevHash = lineHash(l.Raw)
	}
	return out
}

// loadCustody reads key from store; a missing log is an empty one.
func loadCustody(ctx context.Context, store Store, key string) ([]parsedLine, bool, error) {
	rc, err := store.Open(ctx, key)
	if err != nil {
		if isNotExist(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("reading custody log %q: %w", store.URI(key), err)
	}
	defer rc.Close()
	lines, err := readCustody(rc)
	if err != nil {
		return nil, true, fmt.Errorf("reading custody log %q: %w", store.URI(key), err)
	}
	return lines, true, nil
}
