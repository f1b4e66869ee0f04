package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// fnAction is an action whose Run is a test function.
type fnAction struct {
	spec engine.ActionSpec
	run  func(ctx context.Context, in *engine.StepInput) (engine.Outputs, error)
}

func (a *fnAction) Spec() engine.ActionSpec { return a.spec }
func (a *fnAction) Run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	return a.run(ctx, in)
}

// call is one blocked run of a gate action, waiting for the test's answer.
type call struct {
	ctx   context.Context
	in    engine.StepInput
	reply chan reply
}

type reply struct {
	out engine.Outputs
	err error
}

func (c *call) answer(out engine.Outputs, err error) { c.reply <- reply{out, err} }

// gate is an action whose every run blocks until the test answers it (or
// its ctx is done), and which counts how many runs are inside at once.
type gate struct {
	calls         chan *call
	mu            sync.Mutex
	cur, max, all int
}

func newGate() *gate { return &gate{calls: make(chan *call, 1024)} }

func (g *gate) action(name string, params ...engine.Param) *fnAction {
	return &fnAction{spec: engine.ActionSpec{Name: name, Params: params}, run: g.run}
}

func (g *gate) run(ctx context.Context, in *engine.StepInput) (engine.Outputs, error) {
	g.mu.Lock()
	g.cur++
	g.all++
	g.max = max(g.max, g.cur)
	g.mu.Unlock()
	defer func() { g.mu.Lock(); g.cur--; g.mu.Unlock() }()
	c := &call{ctx: ctx, in: *in, reply: make(chan reply, 1)}
	g.calls <- c
	select {
	case r := <-c.reply:
		return r.out, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *gate) stats() (maxInside, total int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max, g.all
}

// counter is an action that answers at once from a function and counts its
// runs per step (and item).
type counter struct {
	mu   sync.Mutex
	runs map[string]int
	fn   func(in *engine.StepInput) (engine.Outputs, error)
}

func newCounter(fn func(in *engine.StepInput) (engine.Outputs, error)) *counter {
	if fn == nil {
		fn = func(in *engine.StepInput) (engine.Outputs, error) { return engine.Outputs{"step": in.StepID}, nil }
	}
	return &counter{runs: map[string]int{}, fn: fn}
}

func (c *counter) action(name string, params ...engine.Param) *fnAction {
	return &fnAction{spec: engine.ActionSpec{Name: name, Params: params}, run: func(_ context.Context, in *engine.StepInput) (engine.Outputs, error) {
		c.mu.Lock()
		c.runs[runKey(in)]++
		c.mu.Unlock()
		return c.fn(in)
	}}
}

func (c *counter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[key]
}

func runKey(in *engine.StepInput) string {
	if in.ForEach {
		return fmt.Sprintf("%s#%d", in.StepID, in.ItemIndex)
	}
	return in.StepID
}

var errBoom = errors.New("boom")

// step builds a step; opts change it.
func step(id, action string, needs ...string) *engine.Step {
	return &engine.Step{ID: id, Action: action, Needs: needs}
}

func playbook(steps ...*engine.Step) *engine.Playbook {
	pb := &engine.Playbook{Name: "test", SHA256: "abc", Source: "test.yaml"}
	for _, s := range steps {
		if s.Finally {
			pb.Finally = append(pb.Finally, s)
		} else {
			pb.Steps = append(pb.Steps, s)
		}
	}
	if err := pb.BuildGraphs(); err != nil {
		panic(err) // a test's own playbook: the loader's checks are not the runner's to repeat
	}
	return pb
}

func cond(t testing.TB, src string) *engine.Expr {
	t.Helper()
	e, err := engine.CompileExpr(src, engine.ExprBool)
	if err != nil {
		t.Fatalf("compiling %q: %v", src, err)
	}
	return e
}

func list(t testing.TB, src string) *engine.Expr {
	t.Helper()
	e, err := engine.CompileExpr(src, engine.ExprList)
	if err != nil {
		t.Fatalf("compiling %q: %v", src, err)
	}
	return e
}

func with(t testing.TB, m map[string]any) map[string]engine.Value {
	t.Helper()
	out := map[string]engine.Value{}
	for k, v := range m {
		c, err := engine.CompileValue(v)
		if err != nil {
			t.Fatalf("compiling %s=%v: %v", k, v, err)
		}
		out[k] = c
	}
	return out
}

func registry(actions ...engine.Action) *engine.Registry {
	r := engine.NewRegistry()
	for _, a := range actions {
		r.Register(a)
	}
	return r
}

// recorder is an engine.Recorder that keeps what it is told.
type recorder struct {
	mu     sync.Mutex
	events []string // "event step"
	steps  map[string]engine.StepRecord
}

func newRecorder() *recorder { return &recorder{steps: map[string]engine.StepRecord{}} }

func (r *recorder) Evidence(string) engine.Evidence { return nopEvidence{} }
func (r *recorder) Event(_ context.Context, event, step string, _ map[string]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event+" "+step)
	return nil
}
func (r *recorder) SetStep(rec engine.StepRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps[rec.ID] = rec
}

func (r *recorder) has(event string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e == event {
			return true
		}
	}
	return false
}

// statuses maps step id to status (and skip reason, when skipped).
func statuses(res *Result) map[string]string {
	out := map[string]string{}
	for _, s := range res.Steps {
		v := string(s.Status)
		if s.SkipReason != "" {
			v += ": " + s.SkipReason
		}
		out[s.ID] = v
	}
	return out
}

// noSleep records the waits asked for and returns at once.
type noSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (n *noSleep) sleep(ctx context.Context, d time.Duration) error {
	n.mu.Lock()
	n.waits = append(n.waits, d)
	n.mu.Unlock()
	return ctx.Err()
}
