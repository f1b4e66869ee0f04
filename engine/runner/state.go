package runner

import (
	"encoding/json"

	"github.com/firebreak-ir/firebreak/engine"
)

// stepState is the coordinator's view of one step. Workers read only step,
// action and spec, which never change during a run.
type stepState struct {
	step   *engine.Step
	action engine.Action
	spec   engine.ActionSpec

	rec        engine.StepRecord
	pending    int          // needs that have not ended
	dependents []*stepState // steps that need this one
	needs      []*stepState
	// prior is the record the journal holds from before a Resume.
	prior    *engine.StepRecord
	priorKey []string

	approved bool
	queued   bool
	// for_each
	items        []item
	next         int // next item to start
	itemsRunning int
	itemsLeft    int   // items that have not ended
	needFailed   bool  // a need failed (continue_on_error aside): failed() is true
	blocked      block // skipped because a step upstream failed or was declined: its dependents skip too
	declined     bool  // its approval was declined: its dependents skip
}

// maxItems bounds a for_each list, so that neither a runaway expression nor
// a damaged journal can make the runner allocate without end.
const maxItems = 1 << 16

// item is one for_each item.
type item struct {
	value any
	key   string // value as JSON, to match items across a Resume
	kept  bool   // succeeded before a Resume: not run again
}

// unit is what a worker runs: a step, or one item (index >= 0) of a for_each step.
type unit struct {
	st    *stepState
	index int
}

// ended reports whether the step reached a final state in this run.
func (s *stepState) ended() bool { return s.rec.Status.Final() }

// failedHard reports whether the step failed in a way its dependents and
// the run's status see: continue_on_error turns a failure into fine.
func (s *stepState) failedHard() bool {
	return s.rec.Status == engine.StatusFailed && !s.step.ContinueOnError
}

// itemsOutputs is the outputs of a for_each step, as steps.<id>.outputs
// shows them: {"items": [outputs of item 0, outputs of item 1, ...]}, in
// item order whatever order the items finished in; an item that did not
// succeed gives nil.
func itemsOutputs(items []engine.StepRecord) engine.Outputs {
	list := make([]any, len(items))
	for i, it := range items {
		if it.Outputs != nil {
			list[i] = map[string]any(it.Outputs)
		}
	}
	return engine.Outputs{"items": list}
}

// itemKey is the identity of a for_each item across a Resume.
func itemKey(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
