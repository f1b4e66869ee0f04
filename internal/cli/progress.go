package cli

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firebreak-ir/firebreak/actions/memory"
	"github.com/firebreak-ir/firebreak/engine"
)

// captureProgress shows memory captures: rows of the live display on a
// terminal (bytes, rate, ETA), log lines otherwise. The registry is built
// before the display, so it asks for the display of the moment.
type captureProgress struct{ st *cliState }

var _ memory.Progress = captureProgress{}

// Start implements memory.Progress.
func (p captureProgress) Start(name string, total int64) memory.ProgressTracker {
	if d, ok := p.st.currentDisplay().(*liveDisplay); ok {
		return d.startCapture(name, total)
	}
	// The runner's logger keeps only warnings (the display reports state
	// changes), so progress goes to the program's logger.
	return memory.LogProgress{Log: p.st.logger()}.Start(name, total)
}

// displayHolder remembers the display in use, for captureProgress.
type displayHolder struct {
	mu sync.Mutex
	d  display
}

func (st *cliState) setDisplay(d display) {
	st.disp.mu.Lock()
	st.disp.d = d
	st.disp.mu.Unlock()
}

func (st *cliState) currentDisplay() display {
	st.disp.mu.Lock()
	defer st.disp.mu.Unlock()
	return st.disp.d
}

// captureRow follows one capture for the live display. Add is called from
// the copying goroutine, the display reads from its own: the counters are
// atomic.
type captureRow struct {
	total   int64
	done    atomic.Int64
	started time.Time
	ended   atomic.Bool
}

func (d *liveDisplay) startCapture(name string, total int64) memory.ProgressTracker {
	c := &captureRow{total: total, started: time.Now()}
	d.mu.Lock()
	r := d.row("", "memory "+name, "capture-memory")
	r.status, r.started, r.capture = engine.StatusRunning, c.started, c
	d.mu.Unlock()
	return &captureTracker{d: d, r: r, c: c}
}

type captureTracker struct {
	d *liveDisplay
	r *row
	c *captureRow
}

func (t *captureTracker) Add(n int64) { t.c.done.Add(n) }

func (t *captureTracker) Done(err error) {
	t.c.ended.Store(true)
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	t.r.took = time.Since(t.c.started)
	t.r.status = engine.StatusSucceeded
	if err != nil {
		t.r.status, t.r.detail = engine.StatusFailed, firstLine(err.Error())
	}
}

// text is the capture's progress: bytes of total, rate, time left.
func (c *captureRow) text(now time.Time) string {
	done := c.done.Load()
	secs := now.Sub(c.started).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(done) / secs
	}
	s := bytesText(done)
	if c.total > 0 {
		s += fmt.Sprintf(" / %s (%d%%)", bytesText(c.total), done*100/c.total)
	}
	s += fmt.Sprintf(" %s/s", bytesText(int64(rate)))
	if c.total > done && rate > 0 && !c.ended.Load() {
		s += " ETA " + (time.Duration(float64(c.total-done)/rate) * time.Second).Round(time.Second).String()
	}
	return s
}

// bytesText is memory.HumanBytes: the live display and the capture's log
// lines speak of sizes the same way.
func bytesText(n int64) string { return memory.HumanBytes(n) }

// endDisplay stops d; later log lines go straight to stderr again.
func (st *cliState) endDisplay(d display) {
	d.stop()
	st.setDisplay(nil)
}
