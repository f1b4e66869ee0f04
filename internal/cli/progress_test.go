package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCaptureProgressOnLiveDisplay(t *testing.T) {
	var out bytes.Buffer
	d := newLiveDisplay(&out, false)
	st := &cliState{stderr: &out}
	st.setDisplay(d)
	tr := captureProgress{st}.Start("10.0.0.5", 4<<20)
	tr.Add(1 << 20)
	tr.Add(1 << 20)
	d.draw()
	mid := out.String()
	tr.Done(nil)
	failed := captureProgress{st}.Start("10.0.0.6", 0)
	failed.Add(10)
	failed.Done(errors.New("stream stalled for 60s"))
	d.stop()
	contains(t, "while capturing", mid, "memory 10.0.0.5", "capture-memory", "2.0 MiB / 4.0 MiB (50%)")
	final := out.String()[len(mid):]
	contains(t, "after", final, "succeeded", "2.0 MiB", "memory 10.0.0.6", "failed", "stream stalled for 60s")
}

func TestCaptureProgressWithoutTerminal(t *testing.T) {
	var out bytes.Buffer
	st := &cliState{stderr: &out, logFormat: "text", logLevel: "info"}
	st.setDisplay(&logDisplay{log: st.logger()})
	tr := captureProgress{st}.Start("10.0.0.5", 100)
	tr.Add(100)
	tr.Done(nil)
	if !strings.Contains(out.String(), "memory capture done") {
		t.Errorf("want a log line at the end of the capture, got %q", out.String())
	}
}

func TestBytesText(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 30: "3.0 GiB", 1536 << 20: "1.5 GiB"} {
		if got := bytesText(n); got != want {
			t.Errorf("bytesText(%d): got %q, want %q", n, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 5, "abcd…"},
		{"ééééé", 4, "é…"}, // never half a rune
	} {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d): got %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestLogsHeldWhileLiveDisplayRuns(t *testing.T) {
	var out bytes.Buffer
	st := &cliState{stderr: &out, logFormat: "text", logLevel: "info"}
	d := newLiveDisplay(&out, false)
	st.setDisplay(d)
	st.logger().Warn("operator identity unknown")
	st.runnerLogger().Warn("step retried")
	st.runnerLogger().Info("step started") // the display shows that; not logged
	if strings.Contains(out.String(), "operator identity unknown") {
		t.Fatalf("a log line was written while the display redraws:\n%s", out.String())
	}
	d.stop()
	st.setDisplay(nil)
	contains(t, "after stop", out.String(), "operator identity unknown", "step retried")
	if strings.Contains(out.String(), "step started") {
		t.Errorf("the runner's info lines repeat the display:\n%s", out.String())
	}
	st.logger().Info("after")
	if !strings.HasSuffix(strings.TrimSpace(out.String()), "msg=after") {
		t.Errorf("after the display, logs go straight out:\n%s", out.String())
	}
}
