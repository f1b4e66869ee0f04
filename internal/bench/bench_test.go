package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/actions/all"
	"github.com/firebreak-ir/firebreak/engine/loader"
	"github.com/firebreak-ir/firebreak/engine/runner"
	"github.com/firebreak-ir/firebreak/internal/awsapi"
	"github.com/firebreak-ir/firebreak/internal/faultproxy"
	"github.com/firebreak-ir/firebreak/playbooks"
)

// TestRunSchedulerPrintsTableAndJSON runs the cheapest benchmark small and
// checks both outputs carry its rows with a measured baseline.
func TestRunSchedulerPrintsTableAndJSON(t *testing.T) {
	var out bytes.Buffer
	if err := Run(t.Context(), Options{Steps: 200, Only: []string{"scheduler"}}, &out); err != nil {
		t.Fatalf("Run: %v", err)
	}
	text := out.String()
	i := strings.Index(text, "{")
	if i < 0 || !strings.Contains(text[:i], "scheduler/chain/journal=true") {
		t.Fatalf("want a table naming scheduler/chain/journal=true, then JSON; got:\n%s", text)
	}
	var doc struct{ Rows []Row }
	if err := json.Unmarshal([]byte(text[i:]), &doc); err != nil {
		t.Fatalf("JSON part: %v\n%s", err, text[i:])
	}
	if len(doc.Rows) != 4 {
		t.Fatalf("rows: got %d, want 4", len(doc.Rows))
	}
	for _, r := range doc.Rows {
		if r.Value <= 0 || r.Baseline <= 0 || r.Ratio != r.Value/r.Baseline {
			t.Errorf("row %s: value %v baseline %v ratio %v; want both measured and ratio = value/baseline", r.Name, r.Value, r.Baseline, r.Ratio)
		}
	}
}

// TestBenchReport runs every benchmark and prints the table and JSON, only
// with FIREBREAK_BENCH=1 (minutes: moto behind a slow proxy); FIREBREAK_BENCH_FLEET
// sets the fleet size.
func TestBenchReport(t *testing.T) {
	if os.Getenv("FIREBREAK_BENCH") != "1" {
		t.Skip("set FIREBREAK_BENCH=1 to run the benchmarks")
	}
	o := Options{}
	if v := os.Getenv("FIREBREAK_BENCH_FLEET"); v != "" {
		o.Fleet, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("FIREBREAK_BENCH_ONLY"); v != "" {
		o.Only = strings.Split(v, ",")
	}
	var out bytes.Buffer
	err := Run(t.Context(), o, &out)
	t.Logf("\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
}

// TestFigures: time to isolation is read from the proxy's calls (the end
// of the last ENI move), not from the step's end or a constant.
func TestFigures(t *testing.T) {
	t0 := time.Unix(100, 0)
	at := func(op string, s, e int) faultproxy.Call {
		return faultproxy.Call{Operation: op, Start: t0.Add(time.Duration(s) * time.Millisecond), End: t0.Add(time.Duration(e) * time.Millisecond)}
	}
	res := &runner.Result{StartedAt: t0, FinishedAt: t0.Add(5 * time.Second)}
	calls := []faultproxy.Call{at("DescribeInstances", 0, 100), at("ModifyNetworkInterfaceAttribute", 700, 800),
		at("ModifyNetworkInterfaceAttribute", 800, 1234), at("ModifyNetworkInterfaceAttribute", 700, 900), at("CreateSnapshots", 1300, 1400)}
	got, err := figures(res, calls)
	if err != nil || got.toIsolation != 1234*time.Millisecond || got.makespan != 5*time.Second || got.calls != 5 {
		t.Errorf("figures: got %+v, %v; want 1.234s to isolation, 5s makespan, 5 calls", got, err)
	}
	if _, err := figures(res, calls[:1]); err == nil {
		t.Errorf("figures of a run that moved no ENI: want an error")
	}
}

// TestTimeChain times a chain whose true length is known: three calls of
// 20 ms each, one after another, take at least 60 ms.
func TestTimeChain(t *testing.T) {
	call := func() error {
		time.Sleep(20 * time.Millisecond)
		return errors.New("an error answer is a round trip too")
	}
	got, err := timeChain(t.Context(), []func() error{call, call, call})
	if err != nil || got < 60*time.Millisecond {
		t.Errorf("timeChain: got %v, %v; want at least 60ms", got, err)
	}
}

// TestCollectFirstOrder: the baseline playbook makes isolate wait for
// gather, and the built-in one does not.
func TestCollectFirstOrder(t *testing.T) {
	data, err := playbooks.FS.ReadFile("host-compromise.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old, err := collectFirstOrder(data)
	if err != nil {
		t.Fatal(err)
	}
	reg := all.Registry(awsapi.NewClients(sdkConfig("http://127.0.0.1:1", direct, 0)), all.Options{})
	for _, tt := range []struct {
		data []byte
		want bool
	}{{data, false}, {old, true}} {
		pb, err := (&loader.Loader{Registry: reg}).LoadBytes("host-compromise.yaml", tt.data)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range pb.Steps {
			if s.ID == "isolate" && slices.Contains(s.Needs, "gather") != tt.want {
				t.Errorf("isolate needs %v: want gather among them %v", s.Needs, tt.want)
			}
		}
	}
}

// TestFleetFigures: the fleet's figures come from the proxy's calls: EC2
// calls an instance, the busiest second of EC2 calls, the throttled ones.
func TestFleetFigures(t *testing.T) {
	t0 := time.Unix(50, 0)
	var calls []faultproxy.Call
	for i := range 30 { // 30 EC2 calls: 20 in the first second, 10 in the next
		c := faultproxy.Call{Service: "ec2", Start: t0.Add(time.Duration(i*50) * time.Millisecond)}
		if i%10 == 0 {
			c.Fault = faultproxy.Throttle
		}
		calls = append(calls, c)
	}
	calls = append(calls, faultproxy.Call{Service: "iam", Start: t0})
	got := fleetFiguresOf(3, 2*time.Second, calls)
	if got.perSecond != 1.5 || got.ec2PerInstance != 10 || got.busiestEC2 != 20 || got.throttled != 3 {
		t.Errorf("got %+v, want 1.5/s, 10 EC2 calls an instance, busiest second 20, 3 throttled", got)
	}
}
