package evidence

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestCustodyLinesStayReadable: an event whose detail would make a custody
// line longer than verify reads (a step that put 100 MiB in an event) is
// written with its detail replaced by a marker giving its size and hash;
// the chain holds and the case verifies.
func TestCustodyLinesStayReadable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, _ := NewDirStore(dir)
	ctx := context.Background()
	c, err := OpenCase(ctx, store, testHeader("cr-big"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Event(ctx, "step.note", "s", map[string]any{"blob": strings.Repeat("z", 100<<20)}); err != nil {
		t.Fatalf("Event: %v", err)
	}
	if err := c.Event(ctx, "step.note", "s", map[string]any{"small": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Finish(ctx, engine.RunSucceeded, time.Now()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "cr-big", "custody.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(raw), "\n") {
		if len(line) > MaxCustodyLine {
			t.Errorf("custody line %d is %d bytes, more than %d", i+1, len(line), MaxCustodyLine)
		}
	}
	if !strings.Contains(string(raw), `"truncated":true`) || !strings.Contains(string(raw), `"detail_bytes":104857611`) {
		t.Errorf("no truncation marker with the detail's size in the custody log")
	}
	rep, err := Verify(ctx, store, "cr-big", nil)
	if err != nil || !rep.OK() {
		t.Fatalf("Verify: %v %+v", err, rep)
	}
}
