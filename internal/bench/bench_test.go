package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/internal/faultproxy"
)

func TestSerialCalls(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(s, e int) faultproxy.Call {
		return faultproxy.Call{Start: t0.Add(time.Duration(s) * time.Second), End: t0.Add(time.Duration(e) * time.Second)}
	}
	tests := []struct {
		name  string
		calls []faultproxy.Call
		until int
		want  int
	}{
		{"one after another", []faultproxy.Call{at(0, 1), at(1, 2), at(2, 3)}, 10, 3},
		{"all at once", []faultproxy.Call{at(0, 1), at(0, 1), at(0, 1)}, 10, 1},
		{"two lanes", []faultproxy.Call{at(0, 2), at(0, 1), at(1, 2), at(2, 3)}, 10, 3},
		{"cut at until", []faultproxy.Call{at(0, 1), at(1, 2), at(2, 3)}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := serialCalls(tt.calls, t0.Add(time.Duration(tt.until)*time.Second)); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

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
