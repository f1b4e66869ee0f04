package cli

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

func TestCompact(t *testing.T) {
	var rows []*row
	add := func(label, step string, s engine.StepStatus) {
		rows = append(rows, &row{label: label, step: step, status: s})
	}
	add("i-1", "gather", engine.StatusSucceeded)
	add("i-1", "isolate", engine.StatusRunning)
	add("i-2", "gather", engine.StatusFailed)
	add("i-2", "isolate", engine.StatusSkipped)
	add("i-3", "gather", engine.StatusPending)
	add("i-3", "isolate", engine.StatusPending)
	add("i-4", "gather", engine.StatusPending)
	got := compact(rows, 10, 200)
	want := []string{
		"  i-1                      1/2 done, running isolate",
		"  i-2                      2/2 done, 1 failed (gather)",
		"  i-3                      0/2 done",
		"  i-4                      0/1 done",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if got := compact(rows, 3, 200); len(got) != 3 || got[2] != "  ... 2 more run(s)" {
		t.Errorf("cut to 3 lines: got %q", got)
	}
}

func TestLiveDisplayGoesCompactWhenTooTall(t *testing.T) {
	d := &liveDisplay{width: 200, height: 3, byKey: map[string]*row{}}
	for _, l := range []string{"a", "b"} {
		for _, s := range []string{"x", "y"} {
			d.row(l, s, "command")
		}
	}
	if got := d.lines(time.Now()); len(got) != 2 {
		t.Errorf("4 step rows on a 3-line screen: got %d lines %q, want one per run", len(got), got)
	}
	d.height = 10
	if got := d.lines(time.Now()); len(got) != 4 {
		t.Errorf("on a tall screen: got %d lines, want one per step", len(got))
	}
}

func TestLiveRowCountsItems(t *testing.T) {
	d := &liveDisplay{width: 200, height: 50, byKey: map[string]*row{}}
	obs := d.observer("")
	now := time.Now()
	obs(runner.StepEvent{Step: "hash", Action: "command", Item: -1, Status: engine.StatusRunning, Time: now})
	for i := range 3 {
		obs(runner.StepEvent{Step: "hash", Action: "command", Item: i, Status: engine.StatusRunning, Time: now})
	}
	obs(runner.StepEvent{Step: "hash", Action: "command", Item: 0, Status: engine.StatusSucceeded, Time: now})
	obs(runner.StepEvent{Step: "hash", Action: "command", Item: 1, Status: engine.StatusFailed, Error: "boom", RetryIn: time.Second, Time: now})
	lines := d.lines(now)
	if len(lines) != 1 || !strings.Contains(lines[0], "1/3+ items") {
		t.Errorf("got %q, want the step running with 1 of 3 items ended (a retried item is not ended)", lines)
	}
}
