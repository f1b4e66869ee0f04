package bench

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/firebreak-ir/firebreak/internal/faultproxy"
)

// fleet contains o.Fleet instances, o.Parallel at once, sharing one set of
// SDK clients as `run --targets` does: instances contained per second
// with latency only (against perfect scaling of one run's makespan) and
// with o.Throttle of the calls throttled (against the unthrottled rate),
// in the adaptive retry mode firebreak uses and the standard one.
func fleet(ctx context.Context, o Options) ([]Row, error) {
	if o.Fleet < 0 {
		return nil, nil
	}
	e, err := startAWS(ctx, 2)
	if err != nil {
		return nil, err
	}
	defer e.close()
	e.proxy.SetRules(faultproxy.Rule{Latency: o.Latency})
	one, _, err := e.timedRun(ctx, "adaptive", e.world.InstanceID)
	if err != nil {
		return nil, err
	}
	ideal := float64(o.Parallel) / one.FinishedAt.Sub(one.StartedAt).Seconds()
	calm, err := e.contain(ctx, o, "adaptive", 0)
	if err != nil {
		return nil, err
	}
	note := fmt.Sprintf("%d instances, %d at once, %v a call", o.Fleet, o.Parallel, o.Latency)
	rows := []Row{row("fleet/contained-per-s", calm, "/s", ideal, "parallel x 1/makespan", note)}
	for _, mode := range []string{"adaptive", "standard"} {
		rate, err := e.contain(ctx, o, mode, o.Throttle)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row(fmt.Sprintf("fleet/contained-per-s-%.0f%%-throttled/%s", 100*o.Throttle, mode), rate, "/s", calm, "unthrottled", note))
	}
	return rows, nil
}

// contain launches o.Fleet instances and contains them all, returning
// instances contained per second.
func (e *awsEnv) contain(ctx context.Context, o Options, mode string, throttle float64) (float64, error) {
	ids, err := e.launch(ctx, o.Fleet)
	if err != nil {
		return 0, err
	}
	h, err := e.hostRunner(sdkConfig(e.proxy.URL, mode))
	if err != nil {
		return 0, err
	}
	e.proxy.SetRules(faultproxy.Rule{Latency: o.Latency, Throttle: throttle})
	defer e.proxy.SetRules()
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallel)
	for _, id := range ids {
		g.Go(func() error {
			_, err := h.run(gctx, id)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return float64(len(ids)) / time.Since(start).Seconds(), nil
}
