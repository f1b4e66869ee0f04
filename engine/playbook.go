package engine

import (
	"fmt"
	"regexp"
	"time"

	"github.com/firebreak-ir/firebreak/engine/graph"
)

// Pos is a position in a playbook file. Line and Col start at 1.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Playbook is a loaded, validated playbook with every expression compiled.
// It is read-only after loading and safe to share between runs.
type Playbook struct {
	Name        string
	Version     string
	Incident    string
	Description string
	// Findings are the finding types (globs such as
	// "Backdoor:EC2/*") the playbook answers; see `list --finding`.
	Findings []string
	// Auto lets `firebreak serve --auto` start the playbook at once for a
	// finding it answers; without it a finding only queues it for a click.
	Auto        bool
	Inputs      []*Input
	Defaults    StepDefaults
	Concurrency int // steps running at once; 0 means no playbook bound
	Steps       []*Step
	Finally     []*Step
	// Source is the file it came from, or "builtin:<path>".
	Source string
	// SHA256 is the hex SHA-256 of the raw file.
	SHA256 string
	Raw    []byte

	// Graph and FinallyGraph are the needs graphs of Steps and of Finally
	// (each block is its own graph). The loader builds them once, as it
	// checks the playbook; the runner and the planner walk them (Graphs)
	// and build none. A Playbook made by hand calls BuildGraphs once its
	// steps are set.
	Graph, FinallyGraph *graph.Graph
}

// Input returns the declared input called name.
func (p *Playbook) Input(name string) (*Input, bool) {
	for _, in := range p.Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return nil, false
}

// Step returns the step (main or finally) called id.
func (p *Playbook) Step(id string) (*Step, bool) {
	for _, s := range p.AllSteps() {
		if s.ID == id {
			return s, true
		}
	}
	return nil, false
}

// AllSteps returns the main steps followed by the finally steps.
func (p *Playbook) AllSteps() []*Step {
	all := make([]*Step, 0, len(p.Steps)+len(p.Finally))
	return append(append(all, p.Steps...), p.Finally...)
}

// Input declares one playbook input.
type Input struct {
	Name     string
	Type     Type
	Required bool
	// Default is nil when there is none. It may be an expression over
	// `finding` and `incident` (runs started from a finding).
	Default     Value
	Pattern     *regexp.Regexp
	Enum        []any
	Target      bool // fed from each line of --targets
	Description string
	Pos         Pos
}

// StepDefaults are the playbook's `defaults:`.
type StepDefaults struct {
	Timeout time.Duration
	Retries int
	Backoff Backoff
}

// Backoff is the wait between retries: Initial, then times Factor each
// attempt, capped at Max, each wait drawn at random in [wait/2, wait) when
// Jitter is set.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
	Jitter  bool
}

// DefaultBackoff is exponential with jitter from 2s up to 2m, the
// README's playbook defaults.
var DefaultBackoff = Backoff{Initial: 2 * time.Second, Max: 2 * time.Minute, Factor: 2, Jitter: true}

// Step is one step of a playbook, with its defaults already applied.
type Step struct {
	ID     string
	Action string
	// With maps parameter names to compiled values.
	With    map[string]Value
	Needs   []string
	When    *Expr // nil: always true (once needs have not failed)
	ForEach *Expr // nil: not a fan-out
	Timeout time.Duration
	Retries int
	Backoff Backoff
	// ContinueOnError makes a failure count as success for dependents and
	// for the run's status.
	ContinueOnError bool
	// Concurrency bounds the for_each items running at once (0: no bound
	// beyond the run's).
	Concurrency int
	// Approve is non-empty when a human must confirm before the step runs;
	// it is the question to ask.
	Approve string
	Finally bool // a step of the finally: block
	// Description is the step's `description:`, for plan and the dashboard.
	Description string
	Pos         Pos
}
