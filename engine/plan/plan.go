// Package plan answers "what would this playbook do?" without doing it: the
// steps in waves, the critical path, each step's decision and the calls it
// would make. It never calls Action.Run; with check it asks the actions that
// implement engine.Planner to read the live account, and nothing more.
package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/firebreak-ir/firebreak/engine"
)

// Decision says whether a step would run.
type Decision string

// Decisions. Runtime means the answer depends on outputs of other steps (or
// on whether a needed step fails), which only the run can know.
const (
	DecisionRun     Decision = "run"
	DecisionSkip    Decision = "skip"
	DecisionRuntime Decision = "runtime"
)

// Plan is the dry-run view of one playbook with one set of inputs. Its JSON
// form is the machine output of `firebreak plan --format json`.
type Plan struct {
	Playbook engine.PlaybookRef `json:"playbook"`
	Inputs   map[string]any     `json:"inputs"`
	Check    bool               `json:"check"`
	// PermissionCheck says how the IAM permissions were checked, or why
	// they could not be (check plans with a PermissionChecker only).
	PermissionCheck string     `json:"permission_check,omitempty"`
	Waves           [][]string `json:"waves"`
	CriticalPath    []string   `json:"critical_path"`
	Steps           []Step     `json:"steps"`
}

// Step is one step of a plan.
type Step struct {
	ID       string   `json:"id"`
	Action   string   `json:"action"`
	Needs    []string `json:"needs"`
	Wave     int      `json:"wave"`
	Decision Decision `json:"decision"`
	// Reason says why a step is skipped or decided at runtime.
	Reason   string `json:"reason,omitempty"`
	Finally  bool   `json:"finally,omitempty"`
	Mutating bool   `json:"mutating"`
	// ForEach is the fan-out expression; Items is how many items it gives
	// when that is known before the run.
	ForEach  string   `json:"for_each,omitempty"`
	Items    *int     `json:"items,omitempty"`
	Approve  string   `json:"approve,omitempty"`
	Calls    []string `json:"calls"`
	Notes    []string `json:"notes,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// Option tunes Build.
type Option func(*builder)

// WithLogger gives the planners a logger; by default their logs are dropped.
func WithLogger(l *slog.Logger) Option {
	return func(b *builder) {
		if l != nil {
			b.log = l
		}
	}
}

// WithFinding lets expressions read the finding a run would start from
// (run --finding), as `finding` and `incident`.
func WithFinding(finding, incident map[string]any) Option {
	return func(b *builder) { b.finding, b.incident = finding, incident }
}

// Build plans pb with inputs, which must already be resolved (checked and
// defaulted, as loader.ResolveInputs does). With check, planners read the
// live account (engine.PlanInput.Check). Build never calls Action.Run. It
// fails only when the playbook's graph is broken; a step's problems are
// recorded on the step.
func Build(ctx context.Context, reg *engine.Registry, pb *engine.Playbook, inputs map[string]any, check bool, opts ...Option) (*Plan, error) {
	if pb == nil {
		return nil, fmt.Errorf("no playbook to plan")
	}
	b := &builder{reg: reg, pb: pb, inputs: inputs, check: check, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(b)
	}
	if b.inputs == nil {
		b.inputs = map[string]any{}
	}
	return b.build(ctx)
}

type builder struct {
	reg               *engine.Registry
	pb                *engine.Playbook
	inputs            map[string]any
	finding, incident map[string]any
	check             bool
	perms             PermissionChecker
	log               *slog.Logger
}

func (b *builder) build(ctx context.Context) (*Plan, error) {
	main, fin, err := b.pb.Graphs()
	if err != nil {
		return nil, err
	}
	p := &Plan{
		Playbook: b.pb.Ref(),
		Inputs:   b.inputs,
		Check:    b.check,
		Waves:    main.Waves(),
		// Unit weights: step durations are not known before the run, and
		// timeouts are upper bounds that would mislead more than help.
		CriticalPath: main.CriticalPath(nil),
	}
	if p.CriticalPath == nil {
		p.CriticalPath = []string{}
	}
	// Finally steps run after every main step ended: their waves follow.
	p.Waves = append(p.Waves, fin.Waves()...)
	waveOf := map[string]int{}
	for i, w := range p.Waves {
		for _, id := range w {
			waveOf[id] = i
		}
	}
	for _, s := range b.pb.AllSteps() {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("planning interrupted: %w", err)
		}
		p.Steps = append(p.Steps, b.step(ctx, s, waveOf[s.ID]))
	}
	b.checkPermissions(ctx, p)
	return p, nil
}

// JSON writes the plan as indented JSON.
func (p *Plan) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "<runtime: ...>" stays readable
	return enc.Encode(p)
}

// Step returns the planned step called id.
func (p *Plan) Step(id string) (Step, bool) {
	for _, s := range p.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}
