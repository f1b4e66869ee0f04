package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestHeadlines: the summary shows the outputs the actions mark Headline,
// from every step and for_each item that gave them, and nothing else.
func TestHeadlines(t *testing.T) {
	reg := (&cliState{}).registry(t.Context(), false)
	steps := []engine.StepRecord{
		{ID: "isolate", Action: "isolate", Status: engine.StatusSucceeded, Outputs: engine.Outputs{
			"isolation_group_id": "sg-0iso", "ssh_group_id": "", "conversion_group_id": "sg-0conv", "revoked_roles": []any{"web-role"}}},
		{ID: "disks", Action: "snapshot", Status: engine.StatusSucceeded, Outputs: engine.Outputs{
			"snapshot_ids": []any{"snap-1", "snap-2"}, "volumes": map[string]any{"vol-1": "snap-1"}}},
		{ID: "memory", Action: "capture-memory", Status: engine.StatusSucceeded, Items: []engine.StepRecord{
			{Outputs: engine.Outputs{"sha256": "ab12", "size": float64(4 << 30), "uris": []any{"s3://ev/cr/memory.lime"}, "complete": false, "method": "lime"}},
		}},
		{ID: "log", Action: "upload-log", Status: engine.StatusSucceeded, Outputs: engine.Outputs{"artifacts": []any{"x"}}},
	}
	var buf bytes.Buffer
	writeHeadlines(&buf, headlines(reg, steps))
	want := `
what changed and what was kept:
  isolate    isolation_group_id  sg-0iso
             revoked_roles       web-role
  disks      snapshot_ids        snap-1, snap-2
  memory[0]  sha256              ab12
             size                4294967296 (4.0 GiB)
             uris                s3://ev/cr/memory.lime
             complete            false
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestShowOutputEscapesAndCuts(t *testing.T) {
	if got := showOutput("state", "stopped\x1b[2J\x1b[Hsucceeded"); got != `stopped\x1b[2J\x1b[Hsucceeded` {
		t.Errorf("control characters: got %q", got)
	}
	long := make([]any, 100)
	for i := range long {
		long[i] = "snap-0123456789abcdef0"
	}
	if got := showOutput("snapshot_ids", long); len(got) > headlineMax+3 || !strings.HasSuffix(got, "…") {
		t.Errorf("a long list: got %d bytes, %q", len(got), got)
	}
	if got := showOutput("size", 512); got != "512" {
		t.Errorf("a small size: got %q", got)
	}
	if got := showOutput("copies", map[string]any{"snap-2": "snap-c2", "snap-1": "snap-c1"}); got != "snap-1: snap-c1, snap-2: snap-c2" {
		t.Errorf("a map: got %q", got)
	}
}
