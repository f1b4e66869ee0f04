package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

// redrawEvery is how often running steps' elapsed times are refreshed.
const redrawEvery = 250 * time.Millisecond

// liveDisplay redraws one line per step in place on a terminal.
type liveDisplay struct {
	w      io.Writer
	color  bool
	width  int // a wrapped row would break the redraw: rows are cut to fit
	height int // more rows than this are drawn compact

	mu     sync.Mutex
	rows   []*row
	byKey  map[string]*row
	drawn  int
	paused bool

	quit chan struct{}
	done chan struct{}
	held heldLog // log records written while the display runs
}

// heldLog keeps log records back until the display stops. Loggers of
// several goroutines write to it.
type heldLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (h *heldLog) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.buf.Write(p)
}

func (h *heldLog) take() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.buf.String()
	h.buf.Reset()
	return s
}

type row struct {
	label, step, action string
	status              engine.StepStatus
	started             time.Time
	took                time.Duration
	attempt             int
	detail              string
	capture             *captureRow // a memory capture's progress, if this row is one
	items, itemsDone    int         // for_each items started (highest index+1) and ended
	allowed             bool        // continue_on_error: a failure does not fail the run
	question            string      // approve: what it asks
}

func newLiveDisplay(w io.Writer, color bool) *liveDisplay {
	width, height := termSize(w)
	d := &liveDisplay{w: w, color: color, width: width, height: height, byKey: map[string]*row{}, quit: make(chan struct{}), done: make(chan struct{})}
	go d.loop()
	return d
}

func (d *liveDisplay) live() bool { return true }

func (d *liveDisplay) loop() {
	defer close(d.done)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-d.quit:
			d.draw()
			return
		case <-t.C:
			d.draw()
		}
	}
}

func (d *liveDisplay) addRun(label string, pb *engine.Playbook, kept []engine.StepRecord) {
	d.mu.Lock()
	for _, s := range pb.AllSteps() {
		r := d.row(label, s.ID, s.Action)
		r.allowed, r.question = s.ContinueOnError, s.Approve
	}
	d.keep(label, kept)
	d.mu.Unlock()
	d.draw() // the plan shows at once, however fast the run
}

// keep shows the steps a resumed run keeps as they ended before, so the
// first drawing already shows them finished. d.mu is held.
func (d *liveDisplay) keep(label string, kept []engine.StepRecord) {
	for _, s := range kept {
		if s.Status != engine.StatusSucceeded {
			continue // decided and run again
		}
		r := d.row(label, s.ID, s.Action)
		r.status, r.attempt = s.Status, s.Attempts
		if s.StartedAt != nil && s.FinishedAt != nil {
			r.took = s.FinishedAt.Sub(*s.StartedAt)
		}
		r.items, r.itemsDone = len(s.Items), len(s.Items)
	}
}

// row returns the row of a step, adding it when new. d.mu is held.
func (d *liveDisplay) row(label, step, action string) *row {
	key := label + "\x00" + step
	r, ok := d.byKey[key]
	if !ok {
		r = &row{label: label, step: step, action: action, status: engine.StatusPending}
		d.byKey[key] = r
		d.rows = append(d.rows, r)
	}
	return r
}

func (d *liveDisplay) observer(label string) func(runner.StepEvent) {
	return func(ev runner.StepEvent) {
		d.mu.Lock()
		defer d.mu.Unlock()
		r := d.row(label, ev.Step, ev.Action)
		if ev.Item >= 0 {
			r.items = max(r.items, ev.Item+1)
			if ev.Status.Final() && ev.RetryIn == 0 {
				r.itemsDone++
			}
			if ev.Status == engine.StatusFailed {
				r.detail = fmt.Sprintf("item %d failed: %s", ev.Item, firstLine(ev.Error))
			}
			return
		}
		r.status, r.attempt = ev.Status, ev.Attempt
		switch ev.Status {
		case engine.StatusRunning:
			r.started, r.detail = ev.Time, ""
		case engine.StatusFailed:
			r.took, r.detail = ev.Duration, firstLine(ev.Error)
			if ev.RetryIn > 0 {
				r.status, r.detail = engine.StatusRunning, fmt.Sprintf("retrying in %s: %s", ev.RetryIn.Round(time.Second), r.detail)
			}
		case engine.StatusSkipped:
			r.detail = ev.SkipReason
		default:
			r.took = ev.Duration
		}
	}
}

func (d *liveDisplay) pause() func() {
	d.mu.Lock()
	d.paused = true
	d.drawn = 0 // the question goes below; redraw afresh after it
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		d.paused = false
		d.mu.Unlock()
	}
}

func (d *liveDisplay) stop() {
	close(d.quit)
	<-d.done
	io.WriteString(d.w, d.held.take())
}

// draw moves the cursor back over the last drawing and writes every row.
func (d *liveDisplay) draw() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.paused {
		return
	}
	var b strings.Builder
	if d.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dF", d.drawn)
	}
	lines := d.lines(time.Now())
	for _, l := range lines {
		b.WriteString("\x1b[2K")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	d.drawn = len(lines)
	io.WriteString(d.w, b.String())
}

// lines is what to draw: a row per step, or, when that would not fit on
// the screen (the cursor cannot go back above its top), a row per run.
func (d *liveDisplay) lines(now time.Time) []string {
	if len(d.rows) < d.height {
		out := make([]string, len(d.rows))
		for i, r := range d.rows {
			out[i] = d.line(r, now)
		}
		return out
	}
	return compact(d.rows, d.height-1, d.width)
}

func (d *liveDisplay) line(r *row, now time.Time) string {
	name := r.step
	if r.label != "" {
		name = printable(r.label) + " " + r.step
	}
	var state string
	detail := r.detail
	switch r.status {
	case engine.StatusPending:
		state = "waiting"
	case engine.StatusRunning:
		if r.capture != nil {
			state = r.capture.text(now)
			break
		}
		state = "running " + now.Sub(r.started).Round(100*time.Millisecond).String()
		if r.attempt > 1 {
			state += fmt.Sprintf(" (attempt %d)", r.attempt)
		}
		if r.items > 0 {
			state += fmt.Sprintf(" %d/%d+ items", r.itemsDone, r.items)
		}
	case engine.StatusWaiting:
		state = "waiting for approval"
		if r.detail == "" && r.question != "" {
			detail = "asks: " + r.question
		}
	case engine.StatusFailed:
		state = "failed"
		if r.allowed {
			state = "failed (allowed)"
		}
	case engine.StatusSucceeded:
		state = "succeeded " + r.took.Round(10*time.Millisecond).String()
		if r.capture != nil {
			state += " " + bytesText(r.capture.done.Load())
		}
	default:
		state = string(r.status)
	}
	state = d.paint(r.status, fmt.Sprintf("%-22s", state))
	line := fmt.Sprintf("  %-28s %-18s %s", name, r.action, state)
	if detail != "" {
		line += " " + printable(detail)
	}
	return clip(line, d.width+d.escapes(r))
}

// escapes is the number of bytes of colour codes in a row's line, which
// take no room on the screen.
func (d *liveDisplay) escapes(r *row) int {
	if d.paint(r.status, "") == "" {
		return 0
	}
	return len(d.paint(r.status, ""))
}

// termSize is the room to draw in: the terminal's width and height less
// one, 160 by 50 when it cannot be told.
func termSize(w io.Writer) (width, height int) {
	width, height = 160, 50
	if f, ok := w.(*os.File); ok {
		if cols, rows, err := term.GetSize(int(f.Fd())); err == nil {
			if cols > 20 {
				width = cols - 1
			}
			if rows > 4 {
				height = rows - 1
			}
		}
	}
	return width, height
}

func (d *liveDisplay) paint(s engine.StepStatus, text string) string {
	if !d.color {
		return text
	}
	code := map[engine.StepStatus]string{
		engine.StatusSucceeded: "32", engine.StatusFailed: "31", engine.StatusSkipped: "90",
		engine.StatusRunning: "36", engine.StatusWaiting: "33", engine.StatusCancelled: "33",
	}[s]
	if code == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// clip cuts s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n || n < 2 {
		return s
	}
	cut := n - 1
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
