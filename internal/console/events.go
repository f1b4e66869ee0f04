package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/firebreak-ir/firebreak/engine/runner"
)

// sseBuffer is how many events a page may fall behind before it is
// dropped (the run never waits for a page; the browser reconnects and
// gets the current state).
const sseBuffer = 64

// sseWriteTimeout bounds each write to a page: a page that stops reading
// is let go.
const sseWriteTimeout = 10 * time.Second

// sseEvent is a step event as pages receive it.
type sseEvent struct {
	Step       string `json:"step"`
	Item       int    `json:"item"`
	Status     string `json:"status"`
	Attempt    int    `json:"attempt,omitempty"`
	Error      string `json:"error,omitempty"`
	SkipReason string `json:"skip_reason,omitempty"`
	Time       string `json:"time"`
	DurationMS int64  `json:"duration_ms,omitempty"`
}

func toSSE(ev runner.StepEvent) sseEvent {
	return sseEvent{Step: ev.Step, Item: ev.Item, Status: string(ev.Status), Attempt: ev.Attempt, Error: ev.Error,
		SkipReason: ev.SkipReason, Time: ev.Time.UTC().Format(time.RFC3339Nano), DurationMS: ev.Duration.Milliseconds()}
}

type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s sse) send(event string, v any) error {
	data, _ := json.Marshal(v) // plain structs: it cannot fail
	s.rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", event, data); err != nil {
		return err
	}
	return s.rc.Flush()
}

// apiEvents is GET /api/runs/{id}/events: server-sent events of the run's
// steps. First the latest state of every step, then each change, then an
// "end" event with the run's status. A run that is not going on here gives
// its recorded states and the end at once.
func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request, _ caller) {
	id := r.PathValue("id")
	tr, live := s.runs.get(id)
	var v *runView
	if !live {
		var err error
		if v, err = s.loadRun(r.Context(), id); err != nil {
			s.runError(w, r, err)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := sse{w: w, rc: http.NewResponseController(w)}
	fmt.Fprint(w, "retry: 2000\n\n")
	if !live {
		for _, st := range v.Steps {
			out.send("step", sseEvent{Step: st.ID, Item: -1, Status: string(st.Status), Attempt: st.Attempts, Error: st.Error, SkipReason: st.SkipReason})
		}
		out.send("end", map[string]string{"status": string(v.Status)})
		return
	}
	events, stop := tr.run.Follow(sseBuffer)
	defer stop()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				select {
				case <-tr.run.Done():
					out.send("end", map[string]string{"status": string(tr.run.Wait().Status)})
				case <-time.After(time.Second):
					// Dropped for falling behind: the browser reconnects
					// and starts again from the current state.
				}
				return
			}
			if err := out.send("step", toSSE(ev)); err != nil {
				return
			}
		case <-keepalive.C:
			out.rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil || out.rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}
