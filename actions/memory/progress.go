package memory

import (
	"fmt"
	"log/slog"
	"time"
)

// Progress reports how far captures have got. The action cannot know
// whether a terminal is attached, so the CLI injects one (progress bars
// with mpb); the default writes log lines. Implementations must be safe
// for concurrent use: for_each items capture at once.
type Progress interface {
	// Start begins tracking one capture; total is the expected size in
	// bytes, 0 when unknown.
	Start(name string, total int64) ProgressTracker
}

// ProgressTracker follows one capture. Add is called from the one goroutine
// that copies the stream; Done once at the end.
type ProgressTracker interface {
	Add(n int64)
	Done(err error)
}

// LogProgress is the default Progress: one slog line per capture every
// Every (default 10s) with bytes, rate and ETA, and one at the end.
type LogProgress struct {
	Log   *slog.Logger
	Every time.Duration
	// Now is the clock; nil = time.Now. Tests set it.
	Now func() time.Time
}

// Start implements Progress.
func (p LogProgress) Start(name string, total int64) ProgressTracker {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	every := p.Every
	if every == 0 {
		every = 10 * time.Second
	}
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	t := now()
	return &logTracker{log: log, name: name, total: total, every: every, now: now, start: t, last: t}
}

type logTracker struct {
	log         *slog.Logger
	name        string
	total, done int64
	every       time.Duration
	now         func() time.Time
	start, last time.Time
}

func (t *logTracker) Add(n int64) {
	t.done += n
	if now := t.now(); now.Sub(t.last) >= t.every {
		t.last = now
		t.log.Info("memory capture progress", t.attrs(now)...)
	}
}

func (t *logTracker) Done(err error) {
	attrs := t.attrs(t.now())
	if err != nil {
		t.log.Warn("memory capture failed", append(attrs, slog.String("error", err.Error()))...)
		return
	}
	t.log.Info("memory capture done", attrs...)
}

func (t *logTracker) attrs(now time.Time) []any {
	elapsed := now.Sub(t.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(t.done) / s
	}
	attrs := []any{slog.String("host", t.name), slog.Int64("bytes", t.done),
		slog.String("rate", HumanBytes(int64(rate))+"/s"), slog.Duration("elapsed", elapsed.Round(time.Second))}
	if t.total > 0 {
		attrs = append(attrs, slog.Int64("total", t.total))
		if rate > 0 && t.done < t.total {
			eta := time.Duration(float64(t.total-t.done) / rate * float64(time.Second))
			attrs = append(attrs, slog.Duration("eta", eta.Round(time.Second)))
		}
	}
	return attrs
}

// HumanBytes renders a byte count in binary units ("1.5 GiB"), as the
// progress lines and the CLI's live display show it.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
