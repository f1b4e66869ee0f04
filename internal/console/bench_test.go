package console

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/testenv"
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

// BenchmarkInventoryPage renders the inventory page of 2,000 instances
// over 4 regions on moto from the cache (server time per render), against
// the same run's uncached reading of those regions (the baseline: what a
// page would cost without the cache).
func BenchmarkInventoryPage(b *testing.B) {
	m := testenv.StartMoto(b)
	cfg := m.Config()
	clients := awsapi.NewClients(cfg)
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"}
	reg := engine.NewRegistry()
	w := newWorldWith(b, reg, &loader.Catalog{Dirs: []string{"testdata/playbooks"}, Loader: &loader.Loader{Registry: reg}}, func(c *Config) {
		c.EC2 = func(region string) EC2 { return clients.EC2(region) }
		c.Regions = regions
	})
	mw := &motoWorld{world: w, cfg: cfg}
	for _, r := range regions {
		for range 5 {
			mw.launch(b, r, "t3.micro", 100, types.Tag{Key: aws.String("Name"), Value: aws.String("web-" + r)})
		}
	}
	ctx := context.Background()
	start := time.Now()
	snap, err := w.console.inv.get(ctx, true)
	if err != nil || len(snap.Instances) != 2000 {
		b.Fatalf("inventory: %d instances, %v", len(snap.Instances), err)
	}
	read := time.Since(start)
	req := httptest.NewRequest(http.MethodGet, "/inventory", nil)
	req.Header.Set("Authorization", "Bearer "+w.tokens.Viewer)
	h := w.console.Handler()
	var size int
	b.ResetTimer()
	start = time.Now()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET /inventory: %d", rec.Code)
		}
		size = rec.Body.Len()
	}
	render := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(render.Microseconds())/1000, "render-ms")
	b.ReportMetric(float64(read.Microseconds())/1000, "uncached-read-ms")
	b.ReportMetric(float64(render)/float64(read), "ratio-x")
	b.ReportMetric(float64(size)/1024, "page-KiB")
}
