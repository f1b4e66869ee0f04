package ec2

import (
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/awsfixture"
	"github.com/firebreak-ir/firebreak/internal/testenv"
)

// BenchmarkFindInstanceAllRegions searches every region moto lists for the
// fixture's private IP, one region at a time and eight at a time, and
// reports the ratio: what the parallel search buys on this machine.
func BenchmarkFindInstanceAllRegions(b *testing.B) {
	m := testenv.StartMoto(b)
	ctx := testenv.Context(b)
	clients := awsapi.NewClients(m.Config())
	w, err := awsfixture.Build(ctx, m.Config())
	if err != nil {
		b.Fatal(err)
	}
	a := &findInstance{api: func(r string) findAPI { return clients.EC2(r) }}
	regions, err := a.enabledRegions(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var seq, par time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, conc := range []int{1, 8} {
			start := time.Now()
			_, _, err := hostRun(ctx, a, "cr-bench", "find", engine.Params{"target": w.PrivateIP, "concurrency": conc})
			if err != nil {
				b.Fatal(err)
			}
			if conc == 1 {
				seq += time.Since(start)
			} else {
				par += time.Since(start)
			}
		}
	}
	b.ReportMetric(float64(len(regions)), "regions")
	b.ReportMetric(float64(seq.Milliseconds())/float64(b.N), "seq-ms/op")
	b.ReportMetric(float64(par.Milliseconds())/float64(b.N), "par8-ms/op")
	b.ReportMetric(float64(seq)/float64(par), "speedup-x")
}
