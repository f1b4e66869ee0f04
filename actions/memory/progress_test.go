package memory

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLogProgress(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	p := LogProgress{Log: slog.New(slog.NewTextHandler(&buf, nil)), Every: 10 * time.Second, Now: func() time.Time { return now }}
	tr := p.Start("10.0.0.5", 100<<20)
	now = now.Add(5 * time.Second)
	tr.Add(10 << 20) // before Every: no line
	if buf.Len() != 0 {
		t.Fatalf("logged before the interval: %s", buf.String())
	}
	now = now.Add(5 * time.Second)
	tr.Add(10 << 20) // 20 MiB in 10s: 2 MiB/s, 80 MiB left: ETA 40s
	line := buf.String()
	for _, want := range []string{"host=10.0.0.5", "bytes=20971520", `rate="2.0 MiB/s"`, "eta=40s", "total=104857600"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line %q lacks %q", line, want)
		}
	}
	buf.Reset()
	tr.Done(errors.New("stalled"))
	if !strings.Contains(buf.String(), "memory capture failed") || !strings.Contains(buf.String(), "error=stalled") {
		t.Errorf("final line = %q, want the failure and its error", buf.String())
	}
}
