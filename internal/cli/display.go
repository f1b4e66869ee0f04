package cli

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/runner"
)

// display shows runs as they go. On a terminal every step's state is
// redrawn in place (live.go); otherwise each state change is one log line.
type display interface {
	// addRun lists a run's steps before it starts: waiting, but for those
	// a resumed run keeps (kept: the steps as the run left them), which
	// show as they ended.
	addRun(label string, pb *engine.Playbook, kept []engine.StepRecord)
	// observer is the runner's Observer for the run called label.
	observer(label string) func(runner.StepEvent)
	// pause stops redrawing (for a question on the terminal) until the
	// returned function is called.
	pause() (resume func())
	// stop draws the final state and ends the display.
	stop()
	// live reports whether this is the redrawing kind.
	live() bool
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (st *cliState) newDisplay() display {
	var d display = &logDisplay{log: st.logger()}
	if isTerminal(st.stderr) && st.logFormat == "text" {
		d = newLiveDisplay(st.stderr, !st.noColor)
	}
	st.setDisplay(d)
	return d
}

// runnerLogger is the runner's own logger. Step state changes are the
// display's job, so the runner's Info lines (step started, ended) would only
// repeat them; it logs warnings and errors, and everything at debug level.
func (st *cliState) runnerLogger() *slog.Logger {
	level, _ := parseLevel(st.logLevel)
	if level <= slog.LevelDebug && !isTerminal(st.stderr) {
		return st.logger()
	}
	return st.loggerAt(max(level, slog.LevelWarn))
}

// logDisplay writes one log line per state change.
type logDisplay struct {
	log *slog.Logger

	mu    sync.Mutex
	steps map[string]*engine.Step // label + "\x00" + step id
}

// addRun keeps the run's steps: a log line says what a waiting step asks
// and that a failure was allowed. The runner reports the kept steps.
func (d *logDisplay) addRun(label string, pb *engine.Playbook, _ []engine.StepRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.steps == nil {
		d.steps = map[string]*engine.Step{}
	}
	for _, s := range pb.AllSteps() {
		d.steps[label+"\x00"+s.ID] = s
	}
}

func (d *logDisplay) step(label, id string) *engine.Step {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.steps[label+"\x00"+id]
}

func (d *logDisplay) pause() func() { return func() {} }
func (d *logDisplay) stop()         {}
func (d *logDisplay) live() bool    { return false }

func (d *logDisplay) observer(label string) func(runner.StepEvent) {
	return func(ev runner.StepEvent) {
		attrs := []any{"run", ev.RunID, "step", ev.Step, "action", ev.Action, "status", string(ev.Status)}
		if label != "" {
			attrs = append(attrs, "target", label)
		}
		if ev.Item >= 0 {
			attrs = append(attrs, "item", ev.Item)
		}
		if ev.Attempt > 0 {
			attrs = append(attrs, "attempt", ev.Attempt)
		}
		if ev.Duration > 0 {
			attrs = append(attrs, "duration", ev.Duration.Round(time.Millisecond).String())
		}
		if ev.Error != "" {
			attrs = append(attrs, "error", ev.Error)
		}
		if ev.RetryIn > 0 {
			attrs = append(attrs, "retry_in", ev.RetryIn.String())
		}
		if ev.SkipReason != "" {
			attrs = append(attrs, "skip_reason", ev.SkipReason)
		}
		msg, level := "step "+string(ev.Status), slog.LevelInfo
		s := d.step(label, ev.Step)
		switch {
		case ev.Status == engine.StatusWaiting && s != nil:
			attrs = append(attrs, "question", s.Approve)
		case ev.Status == engine.StatusFailed && ev.Item < 0 && ev.RetryIn == 0 && s != nil && s.ContinueOnError:
			msg = "step failed (allowed: continue_on_error)"
		case ev.Status == engine.StatusFailed:
			level = slog.LevelWarn
		}
		d.log.Log(context.Background(), level, msg, attrs...) // an observer has no context of its own
	}
}
