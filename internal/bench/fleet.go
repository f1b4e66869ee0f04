package bench

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/firebreak-ir/firebreak/internal/faultproxy"
)

// fleet contains o.Fleet launched instances (one ENI, two volumes each;
// related_by empty: they are all related, and each is contained itself),
// o.Parallel at once, sharing one set of SDK clients as `run --targets`
// does, behind o.Latency a call:
//   - with latency only, against perfect scaling of one run of an instance
//     of the same shape (o.Parallel / its makespan);
//   - with o.Throttle of the calls throttled at random and EC2 limited to
//     o.EC2Rate calls a second (a token bucket, as AWS limits an account):
//     as firebreak ships (the rate limiter at the fleet's ceiling), against
//     what that limit allows (o.EC2Rate / the EC2 calls an instance took,
//     counted in the same run), and the previous default (the SDK's
//     adaptive retry mode, no limiter) against firebreak;
//   - the EC2 calls an instance took, and the busiest second of EC2 calls
//     against the proxy's limit.
func fleet(ctx context.Context, o Options) ([]Row, error) {
	if o.Fleet < 0 {
		return nil, nil
	}
	e, err := startAWS(ctx, 2)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rate := o.APIRate
	if rate == 0 {
		rate = o.EC2Rate / 2
	}
	e.proxy.SetRules(faultproxy.Rule{Latency: o.Latency})
	ids, err := e.launch(ctx, 1)
	if err != nil {
		return nil, err
	}
	h, err := e.hostRunner(sdkConfig(e.proxy.URL, shipped, rate))
	if err != nil {
		return nil, err
	}
	h.alone = true
	one, err := h.run(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	ideal := float64(o.Parallel) / one.FinishedAt.Sub(one.StartedAt).Seconds()
	calm, err := e.contain(ctx, o, shipped, rate, faultproxy.Rule{Latency: o.Latency})
	if err != nil {
		return nil, err
	}
	note := fmt.Sprintf("%d instances, %d at once, %v a call, --api-rate %g", o.Fleet, o.Parallel, o.Latency, rate)
	rows := []Row{row("fleet/contained-per-s", calm.perSecond, "/s", ideal, "parallel / makespan of one run, same instance shape", note)}
	limited := []faultproxy.Rule{{Latency: o.Latency, Throttle: o.Throttle}, {Service: "ec2", RatePerSecond: o.EC2Rate, Burst: int(o.EC2Rate)}}
	fb, err := e.contain(ctx, o, shipped, rate, limited...)
	if err != nil {
		return nil, err
	}
	cond := fmt.Sprintf("%.0f%% throttled, EC2 %g/s", 100*o.Throttle, o.EC2Rate)
	rows = append(rows,
		row("fleet/contained-per-s-throttled", fb.perSecond, "/s", o.EC2Rate/fb.ec2PerInstance,
			fmt.Sprintf("EC2 limit / EC2 calls an instance (%.1f)", fb.ec2PerInstance), cond+"; "+note),
		row("fleet/ec2-calls-per-instance", fb.ec2PerInstance, "calls", 0, "", cond),
		row("fleet/busiest-ec2-second", float64(fb.busiestEC2), "calls", o.EC2Rate, "the proxy's EC2 limit", cond+fmt.Sprintf("; %d EC2 calls throttled", fb.throttled)),
	)
	old, err := e.contain(ctx, o, adaptive, 0, limited...)
	if err != nil {
		return nil, err
	}
	rows = append(rows, row("fleet/contained-per-s-throttled/adaptive", old.perSecond, "/s", fb.perSecond, "firebreak (rate limiter)", cond+"; the previous default"))
	return rows, nil
}

// fleetFigures are one fleet run's figures.
type fleetFigures struct {
	perSecond      float64
	ec2PerInstance float64
	busiestEC2     int
	throttled      int
}

// contain launches o.Fleet instances and contains them all in mode,
// behind rules.
func (e *awsEnv) contain(ctx context.Context, o Options, mode string, rate float64, rules ...faultproxy.Rule) (fleetFigures, error) {
	ids, err := e.launch(ctx, o.Fleet)
	if err != nil {
		return fleetFigures{}, err
	}
	h, err := e.hostRunner(sdkConfig(e.proxy.URL, mode, rate))
	if err != nil {
		return fleetFigures{}, err
	}
	h.alone = true
	e.proxy.SetRules(rules...)
	defer e.proxy.SetRules()
	e.proxy.Reset()
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
		return fleetFigures{}, err
	}
	return fleetFiguresOf(len(ids), time.Since(start), e.proxy.Calls()), nil
}

// fleetFiguresOf reads a fleet run's figures from the calls the proxy saw.
func fleetFiguresOf(n int, took time.Duration, calls []faultproxy.Call) fleetFigures {
	f := fleetFigures{perSecond: float64(n) / took.Seconds()}
	ec2 := 0
	for _, c := range calls {
		if c.Service == "ec2" {
			ec2++
			if c.Fault == faultproxy.Throttle {
				f.throttled++
			}
		}
	}
	f.ec2PerInstance = float64(ec2) / float64(n)
	f.busiestEC2 = faultproxy.MaxPerSecond(calls, func(c faultproxy.Call) string {
		if c.Service == "ec2" {
			return "ec2"
		}
		return ""
	})["ec2"]
	return f
}
