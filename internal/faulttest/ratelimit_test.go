package faulttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
)

// TestFleetNeverExceedsAPIRate runs collect-metadata over 100 targets at
// once through the binary (`run --targets`, one process, every target's
// steps sharing the clients) with --api-rate 40, behind 20 ms a call and a
// fifth of DescribeVolumes throttled (the limiter halves, the retries
// succeed), and reads the proxy's per-second counts: in no
// second did more than 40 calls of one service (and, for EC2, one kind of
// call: describe, mutating, other) arrive. The run is wide enough that,
// without the limiter, EC2's describes would far exceed 40 a second: the
// busiest second must come near the ceiling, or the test proved nothing.
func TestFleetNeverExceedsAPIRate(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet: a minute; run without -short")
	}
	const n, ceiling = 100, 40
	e := newEnv(t, 33)
	w := e.world(t)
	ids := buildFleet(t, e, w, n)
	c := newCLI(t, e.proxy.URL)
	targets := filepath.Join(c.dir, "targets.txt")
	if err := os.WriteFile(targets, []byte(strings.Join(ids, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pb, err := filepath.Abs("testdata/playbooks/collect-fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e.proxy.Reset()
	e.proxy.SetRules(faultproxy.Rule{Latency: 20 * time.Millisecond}, faultproxy.Rule{Operation: "DescribeVolumes", Throttle: 0.2})
	code, out := c.run("--api-rate", "40", "run", pb, "--targets", targets, "--parallelism", "100", "--evidence", c.evidence, "--case", "rate")
	calls := e.proxy.Calls()
	e.proxy.SetRules()
	if code != 0 {
		t.Fatalf("fleet run: exit %d, want 0\n%s", code, out)
	}
	peaks := faultproxy.MaxPerSecond(calls, func(c faultproxy.Call) string {
		if c.Service == "ec2" {
			return "ec2/" + awsapi.EC2Category(c.Operation)
		}
		return c.Service
	})
	t.Logf("%d calls for %d targets; busiest second per limiter: %v", len(calls), n, peaks)
	for k, p := range peaks {
		if p > ceiling {
			t.Errorf("%s: %d calls arrived in one second, over the ceiling of %d", k, p, ceiling)
		}
	}
	if peaks["ec2/describe"] < ceiling*6/10 {
		t.Errorf("ec2/describe peaked at %d a second: the run never came near the ceiling %d, so it proved nothing", peaks["ec2/describe"], ceiling)
	}
}
