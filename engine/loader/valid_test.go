package loader

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

func load(t *testing.T, file string) *engine.Playbook {
	t.Helper()
	pb, err := (&Loader{Registry: testRegistry()}).LoadFile(file)
	if err != nil {
		t.Fatalf("LoadFile(%q):\n%v", file, err)
	}
	return pb
}

func step(t *testing.T, pb *engine.Playbook, id string) *engine.Step {
	t.Helper()
	s, ok := pb.Step(id)
	if !ok {
		t.Fatalf("no step %q", id)
	}
	return s
}

func TestValidSpecExample(t *testing.T) {
	t.Parallel()
	pb := load(t, "testdata/valid/host-compromise.yaml")
	if pb.Name != "host-compromise" || pb.Version != "1.2.0" || pb.Incident != "ec2-instance-compromise" || pb.Concurrency != 8 {
		t.Errorf("header = %q %q %q %d", pb.Name, pb.Version, pb.Incident, pb.Concurrency)
	}
	if len(pb.SHA256) != 64 || pb.Source != "testdata/valid/host-compromise.yaml" || len(pb.Raw) == 0 {
		t.Errorf("SHA256 %q, Source %q, %d raw bytes", pb.SHA256, pb.Source, len(pb.Raw))
	}
	want := engine.StepDefaults{Timeout: 10 * time.Minute, Retries: 2, Backoff: engine.DefaultBackoff}
	if pb.Defaults != want {
		t.Errorf("Defaults = %+v, want %+v", pb.Defaults, want)
	}
	var ids []string
	for _, s := range pb.AllSteps() {
		ids = append(ids, s.ID)
	}
	if got := strings.Join(ids, " "); got != "gather isolate memory disks stop log" {
		t.Errorf("steps = %s", got)
	}
	mem := step(t, pb, "memory")
	if mem.Timeout != time.Hour || mem.Retries != 1 || mem.When == nil || !reflect.DeepEqual(mem.Needs, []string{"isolate"}) {
		t.Errorf("memory = %+v", mem)
	}
	if !reflect.DeepEqual(mem.When.Steps, []string{"gather"}) || !reflect.DeepEqual(mem.When.Inputs, []string{"capture_memory"}) {
		t.Errorf("memory.when refs: steps %v inputs %v", mem.When.Steps, mem.When.Inputs)
	}
	if _, ok := mem.With["host"].(engine.Whole); !ok {
		t.Errorf("memory.with.host is %T, want engine.Whole", mem.With["host"])
	}
	if got := mem.With["method"]; got != (engine.Literal{V: "lime"}) {
		t.Errorf("memory.with.method = %#v", got)
	}
	if stop := step(t, pb, "stop"); stop.Timeout != 10*time.Minute || stop.Retries != 2 {
		t.Errorf("stop did not take the defaults: %v %d", stop.Timeout, stop.Retries)
	}
	if log := step(t, pb, "log"); !log.Finally || log.Needs != nil {
		t.Errorf("log = %+v", log)
	}
	in, _ := pb.Input("instance_id")
	if !in.Required || !in.Target || in.Pattern.String() != "^i-[0-9a-f]{8,17}$" || in.Type != engine.TypeString || in.Pos.Line != 7 {
		t.Errorf("instance_id = %+v", in)
	}
	if cm, _ := pb.Input("capture_memory"); cm.Default != (engine.Literal{V: true}) || cm.Type != engine.TypeBool {
		t.Errorf("capture_memory = %+v", cm)
	}
}

func TestValidFeatures(t *testing.T) {
	t.Parallel()
	pb := load(t, "testdata/valid/features.yaml")
	if pb.Version != "2" || !reflect.DeepEqual(pb.Findings, []string{"UnauthorizedAccess:IAMUser/*"}) {
		t.Errorf("version %q findings %v", pb.Version, pb.Findings)
	}
	wantBackoff := engine.Backoff{Initial: time.Second, Max: 30 * time.Second, Factor: 3}
	if pb.Defaults.Timeout != 5*time.Minute || pb.Defaults.Retries != 3 || pb.Defaults.Backoff != wantBackoff {
		t.Errorf("defaults = %+v", pb.Defaults)
	}
	mem := step(t, pb, "memory")
	if mem.ForEach == nil || mem.ForEach.Kind != engine.ExprList || mem.Concurrency != 2 || !mem.ContinueOnError || mem.Retries != 0 {
		t.Errorf("memory = %+v", mem)
	}
	if want := (engine.Backoff{Initial: 5 * time.Second, Max: 30 * time.Second, Factor: 3}); mem.Backoff != want {
		t.Errorf("memory backoff = %+v, want the defaults with initial overridden %+v", mem.Backoff, want)
	}
	if !reflect.DeepEqual(mem.Needs, []string{"gather"}) { // written twice, kept once
		t.Errorf("memory needs = %v", mem.Needs)
	}
	if mem.When == nil || mem.When.Source != " !inputs.dry " {
		t.Errorf("when ${{ }} not unwrapped: %#v", mem.When)
	}
	interp, ok := mem.With["console_output"].(engine.Interp)
	if !ok || len(interp.Parts) != 2 || interp.Texts[0] != "host " {
		t.Errorf("console_output = %#v, want an Interp of 2 parts", mem.With["console_output"])
	}
	out, err := mem.With["port"].Eval(&engine.Env{Inputs: map[string]any{"port": 2222}, Index: 3})
	if err != nil || out != 2225 {
		t.Errorf("port evaluates to %v, %v; want 2225", out, err)
	}
	if s := step(t, pb, "stop"); s.Approve != "Stop the instance now?" || !s.When.UsesAlways {
		t.Errorf("stop approve %q, when %+v", s.Approve, s.When)
	}
	if s := step(t, pb, "tag"); s.Approve != `run step "tag" (snapshot)?` {
		t.Errorf("tag approve = %q", s.Approve)
	}
	tags, ok := step(t, pb, "tag").With["tags"].(engine.MapValue)
	if !ok || tags.Items["note"] != (engine.Literal{V: "plain"}) {
		t.Errorf("tags = %#v", step(t, pb, "tag").With["tags"])
	}
	if g := step(t, pb, "gather"); g.Description != "look first" || g.With["screenshot"] != (engine.Literal{V: false}) {
		t.Errorf("gather = %+v", g)
	}
	checkFeatureInputs(t, pb)
}

func checkFeatureInputs(t *testing.T, pb *engine.Playbook) {
	t.Helper()
	id, _ := pb.Input("instance_id")
	if w, ok := id.Default.(engine.Whole); !ok || !w.E.UsesFinding {
		t.Errorf("instance_id default = %#v, want a Whole reading incident", id.Default)
	}
	hosts, _ := pb.Input("hosts")
	if hosts.Default == nil {
		t.Fatal("hosts has no default")
	}
	if v, _ := hosts.Default.Eval(nil); !reflect.DeepEqual(v, []any{"10.0.0.1", "10.0.0.2"}) {
		t.Errorf("hosts default = %#v", v)
	}
	if !reflect.DeepEqual(hosts.Pattern, regexp.MustCompile(`^10\.`)) {
		t.Errorf("hosts pattern = %v", hosts.Pattern)
	}
	mode, _ := pb.Input("mode")
	if mode.Type != engine.TypeString || !reflect.DeepEqual(mode.Enum, []any{"stop", "terminate"}) {
		t.Errorf("mode = %+v", mode)
	}
	labels, _ := pb.Input("labels")
	if v, _ := labels.Default.Eval(nil); !reflect.DeepEqual(v, map[string]any{"team": "ir"}) {
		t.Errorf("labels default = %#v", v)
	}
	if dry, _ := pb.Input("dry"); dry.Default != nil || dry.Type != engine.TypeBool {
		t.Errorf("dry = %+v", dry)
	}
}

// TestNilRegistry loads without checking actions, for tools that only
// read a playbook's shape.
func TestNilRegistry(t *testing.T) {
	t.Parallel()
	pb, err := (&Loader{}).LoadBytes("x.yaml", []byte("name: x\nsteps:\n  - {id: a, action: anything, with: {whatever: 1}}\n"))
	if err != nil || pb.Steps[0].Action != "anything" {
		t.Fatalf("got %v, %v", pb, err)
	}
}

// TestErrorsUnwrap: callers tell a cycle from other problems with errors.Is.
func TestErrorsUnwrap(t *testing.T) {
	t.Parallel()
	l := &Loader{Registry: testRegistry()}
	_, err := l.LoadFile("testdata/invalid/cycle.yaml")
	if !errors.Is(err, engine.ErrCycle) {
		t.Errorf("cycle.yaml: errors.Is(err, ErrCycle) is false: %v", err)
	}
	_, err = l.LoadFile("testdata/invalid/unknown-needs.yaml")
	if err == nil || errors.Is(err, engine.ErrCycle) {
		t.Errorf("unknown-needs.yaml: %v, want an error that is not a cycle", err)
	}
}

// TestConcurrentLoads shares one Loader between goroutines, as the
// --targets runs and the dashboard do; -race checks it.
func TestConcurrentLoads(t *testing.T) {
	t.Parallel()
	l := &Loader{Registry: testRegistry()}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := l.LoadFile("testdata/valid/features.yaml")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
