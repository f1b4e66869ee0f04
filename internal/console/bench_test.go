package console

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// BenchmarkSSEPages times a run of eleven steps from its approval to its
// end while 50 pages follow it over SSE, against the same run followed by
// none, in the same benchmark run: ratio-x is the cost of the pages.
func BenchmarkSSEPages(b *testing.B) {
	w := newBenchWorld(b)
	var alone, watched time.Duration
	for b.Loop() {
		alone += w.timedRun(b, 0)
		watched += w.timedRun(b, 50)
	}
	n := float64(b.N)
	b.ReportMetric(float64(alone.Microseconds())/n/1000, "alone-ms/run")
	b.ReportMetric(float64(watched.Microseconds())/n/1000, "50pages-ms/run")
	b.ReportMetric(float64(watched)/float64(alone), "ratio-x")
}

// timedRun starts gate-then-ten, opens pages event streams on it, approves
// the gate and waits for every page to see the end (or, with none, for the
// run to end): the time from the approval to then.
func (w *world) timedRun(b *testing.B, pages int) time.Duration {
	id := w.startRun("gate-then-ten", nil)
	w.waitRun(id, "the gate", waitingFor("gate"))
	var wg sync.WaitGroup
	connected := make(chan struct{}, pages)
	for range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/api/runs/"+id+"/events", nil)
			req.Header.Set("Authorization", "Bearer "+w.tokens.Viewer)
			res, err := http.DefaultClient.Do(req)
			connected <- struct{}{}
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body) // to the end event, when the server closes the stream
			res.Body.Close()
		}()
	}
	for range pages {
		<-connected
	}
	start := time.Now()
	if _, code := w.do(w.client(), http.MethodPost, "/api/runs/"+id+"/approve", w.tokens.Responder, "application/json", `{"step":"gate"}`); code != http.StatusOK {
		b.Fatalf("approve: %d", code)
	}
	tr, _ := w.console.runs.get(id)
	<-tr.run.Done()
	wg.Wait()
	return time.Since(start)
}
