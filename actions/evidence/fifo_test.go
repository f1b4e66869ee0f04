//go:build unix

package evidence

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// TestUploadLogRefusesAFIFO: a FIFO given as a log is refused at once;
// opening it plainly would block until a writer came, ignoring ctx, and
// hang the run for good.
func TestUploadLogRefusesAFIFO(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "run.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, c := openCase(t)
	in := &engine.StepInput{RunID: "run-1", StepID: "log", Params: engine.Params{"path": fifo}, Evidence: c.Evidence("log")}
	done := make(chan error, 1)
	go func() {
		_, err := (&uploadLog{}).Run(t.Context(), in)
		done <- err
	}()
	// A hang guard, not a speed check: without it a regression shows up as
	// the 10-minute go test timeout.
	guard, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	select {
	case err := <-done:
		want := `upload-log: "` + fifo + `" is not a regular file`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got error %v, want it to start %q", err, want)
		}
	case <-guard.Done():
		// Let the blocked open through, so the goroutine ends.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("upload-log blocked opening a FIFO")
	}
}
