package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
)

// hostCompromise times one host-compromise behind o.Latency a call: time
// to isolation and makespan, each against the floor set by the calls that
// had to happen one after another (the longest chain of calls that did not
// overlap, times the latency). Then the makespan under 20% throttling,
// with the SDK's adaptive retry mode (what firebreak uses) and its
// standard mode, against the unthrottled makespan.
func hostCompromise(ctx context.Context, o Options) ([]Row, error) {
	e, err := startAWS(ctx, 1)
	if err != nil {
		return nil, err
	}
	defer e.close()
	e.proxy.SetRules(faultproxy.Rule{Latency: o.Latency})
	res, calls, err := e.timedRun(ctx, "adaptive", e.world.InstanceID)
	if err != nil {
		return nil, err
	}
	iso, _ := res.Step("isolate")
	toIso := iso.FinishedAt.Sub(res.StartedAt)
	span := res.FinishedAt.Sub(res.StartedAt)
	isoChain := serialCalls(calls, *iso.FinishedAt)
	chain := serialCalls(calls, res.FinishedAt)
	lat := o.Latency.Seconds()
	note := fmt.Sprintf("%d calls, %v each", len(calls), o.Latency)
	rows := []Row{
		row("host/time-to-isolation", toIso.Seconds(), "s", float64(isoChain)*lat, fmt.Sprintf("%d serial calls", isoChain), note),
		row("host/makespan", span.Seconds(), "s", float64(chain)*lat, fmt.Sprintf("%d serial calls", chain), note),
	}
	// The throttled runs contain launched instances (one ENI, two volumes,
	// no load balancer): their baseline is such an instance unthrottled.
	ids, err := e.launch(ctx, 3)
	if err != nil {
		return nil, err
	}
	res, _, err = e.timedRun(ctx, "adaptive", ids[0])
	if err != nil {
		return nil, err
	}
	calm := res.FinishedAt.Sub(res.StartedAt).Seconds()
	for i, mode := range []string{"adaptive", "standard"} {
		e.proxy.SetRules(faultproxy.Rule{Latency: o.Latency, Throttle: 0.20})
		res, calls, err := e.timedRun(ctx, mode, ids[i+1])
		e.proxy.SetRules(faultproxy.Rule{Latency: o.Latency})
		if err != nil {
			return nil, err
		}
		rows = append(rows, row("host/makespan-20%-throttled/"+mode, res.FinishedAt.Sub(res.StartedAt).Seconds(), "s",
			calm, "unthrottled", fmt.Sprintf("%d calls, %d throttled", len(calls), count(calls, faultproxy.Throttle))))
	}
	return rows, nil
}

// timedRun runs host-compromise on one instance with a fresh process's
// clients and returns the result and the calls the proxy saw.
func (e *awsEnv) timedRun(ctx context.Context, mode, instanceID string) (*runner.Result, []faultproxy.Call, error) {
	h, err := e.hostRunner(sdkConfig(e.proxy.URL, mode))
	if err != nil {
		return nil, nil, err
	}
	e.proxy.Reset()
	res, err := h.run(ctx, instanceID)
	return res, e.proxy.Calls(), err
}

// serialCalls is the most calls, among those that ended by until, that
// ran one after another without overlapping: a lower bound on the calls
// the run had to wait for in turn (its critical path of calls).
func serialCalls(calls []faultproxy.Call, until time.Time) int {
	var done []faultproxy.Call
	for _, c := range calls {
		if !c.End.IsZero() && !c.End.After(until) {
			done = append(done, c)
		}
	}
	slices.SortFunc(done, func(a, b faultproxy.Call) int { return a.End.Compare(b.End) })
	n, last := 0, time.Time{}
	for _, c := range done {
		if !c.Start.Before(last) {
			n, last = n+1, c.End
		}
	}
	return n
}

func count(calls []faultproxy.Call, f faultproxy.Fault) int {
	n := 0
	for _, c := range calls {
		if c.Fault == f {
			n++
		}
	}
	return n
}
