// Package bench measures the numbers a responder cares about, each as a
// ratio to a baseline measured in the same run on the same machine, so a
// slow or busy machine slows both sides alike: the scheduler's cost per
// step against a bare loop; time to isolation and makespan of
// host-compromise behind a slow AWS against the floor its critical path of
// calls sets; fleet containment rate with and without throttling; memory
// capture throughput against `ssh cat` and the memory it takes.
//
// AWS is moto_server behind internal/faultproxy, started by Run on
// 127.0.0.1; nothing leaves the machine.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Options size the benchmarks. Zero values take the defaults.
type Options struct {
	Steps    int           `json:"steps"`    // no-op steps for the scheduler benchmark (10,000)
	Latency  time.Duration `json:"latency"`  // added to every AWS call (100 ms)
	Fleet    int           `json:"fleet"`    // instances for the fleet benchmark (20; 0 after defaults = skip with -1)
	Parallel int           `json:"parallel"` // fleet runs at once (10)
	Throttle float64       `json:"throttle"` // fleet: share of calls throttled (0.10)
	// MemoryMiB is the image size the memory benchmark streams (256).
	MemoryMiB int `json:"memory_mib"`
	// Only names the benchmarks to run (Names); empty runs them all. Run
	// refuses a name it does not know.
	Only []string `json:"only,omitempty"`
}

// benchmark is one of the figures Run can measure.
type benchmark struct {
	name string
	fn   func(context.Context, Options) ([]Row, error)
}

// benchmarks are the figures, in the order Run measures them.
var benchmarks = []benchmark{{"scheduler", scheduler}, {"memory", memoryCapture}, {"host", hostCompromise}, {"fleet", fleet}}

// Names are the benchmarks Options.Only can name, in the order Run runs them.
func Names() []string {
	names := make([]string, len(benchmarks))
	for i, b := range benchmarks {
		names[i] = b.name
	}
	return names
}

// ErrUnknown is wrapped by Run's error for a name in Only that is no benchmark.
var ErrUnknown = errors.New("unknown benchmark")

// checkOnly refuses a name in Only that is no benchmark: a typo would
// otherwise run nothing and print an empty table.
func (o *Options) checkOnly() error {
	for _, n := range o.Only {
		if !slices.Contains(Names(), n) {
			return fmt.Errorf("%w %q: want one of %s", ErrUnknown, n, strings.Join(Names(), ", "))
		}
	}
	return nil
}

func (o *Options) defaults() {
	if o.Steps == 0 {
		o.Steps = 10_000
	}
	if o.Latency == 0 {
		o.Latency = 100 * time.Millisecond
	}
	if o.Fleet == 0 {
		o.Fleet = 20
	}
	if o.Parallel == 0 {
		o.Parallel = 10
	}
	if o.MemoryMiB == 0 {
		o.MemoryMiB = 256
	}
	if o.Throttle == 0 {
		o.Throttle = 0.10
	}
}

func (o *Options) wants(name string) bool {
	if len(o.Only) == 0 {
		return true
	}
	for _, n := range o.Only {
		if n == name {
			return true
		}
	}
	return false
}

// Row is one measured figure against its baseline.
type Row struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Baseline float64 `json:"baseline"`
	BaseName string  `json:"baseline_name"`
	// Ratio is Value / Baseline.
	Ratio float64 `json:"ratio"`
	Note  string  `json:"note,omitempty"`
}

func row(name string, value float64, unit string, base float64, baseName, note string) Row {
	r := Row{Name: name, Value: value, Unit: unit, Baseline: base, BaseName: baseName, Note: note}
	if base != 0 {
		r.Ratio = value / base
	}
	return r
}

// Run runs the benchmarks opts selects and writes a table, then the same
// rows as one JSON document, to w. It fails when a benchmark's run fails:
// a figure from a broken run means nothing.
func Run(ctx context.Context, opts Options, w io.Writer) error {
	if err := opts.checkOnly(); err != nil {
		return err
	}
	opts.defaults()
	var rows []Row
	for _, s := range benchmarks {
		if !opts.wants(s.name) {
			continue
		}
		got, err := s.fn(ctx, opts)
		if err != nil {
			return fmt.Errorf("bench %s: %w", s.name, err)
		}
		rows = append(rows, got...)
	}
	if err := Table(w, rows); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"rows": rows, "options": opts})
}

// Table prints rows as an aligned table.
func Table(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCHMARK\tVALUE\tBASELINE\tRATIO\tNOTE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s %s\t%s (%s)\t%.2fx\t%s\n", r.Name, num(r.Value), r.Unit, num(r.Baseline), r.BaseName, r.Ratio, r.Note)
	}
	return tw.Flush()
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
