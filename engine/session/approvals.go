package session

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// ErrNoQuestion: Answer named a step that is not waiting for approval.
var ErrNoQuestion = errors.New("no approval pending for that step")

// Question is an approve step waiting for an answer.
type Question struct {
	Step, Question string
	Since          time.Time
}

// Approvals is a runner.Approver whose answers come from elsewhere: a
// console's Approve button, a chat command. Approve waits until Answer is
// called for its step, from any goroutine, or until its context ends (an
// interrupted run, which a resume asks again). It is safe for concurrent
// use; one Approvals may serve several runs when their step ids do not
// clash, but one per run is clearer.
type Approvals struct {
	// OnAsk, when set (before the first question), is called with each
	// question once it is pending: to tell someone there is one to answer.
	// It must not block.
	OnAsk func(Question)

	mu      sync.Mutex
	pending map[string]*pendingQuestion
	now     func() time.Time
}

type pendingQuestion struct {
	q      Question
	answer chan bool
}

// NewApprovals returns an Approvals with nothing pending.
func NewApprovals() *Approvals {
	return &Approvals{pending: map[string]*pendingQuestion{}, now: time.Now}
}

// Approve puts the question up and waits for its answer.
func (a *Approvals) Approve(ctx context.Context, stepID, question string) (bool, error) {
	p := &pendingQuestion{q: Question{Step: stepID, Question: question, Since: a.now()}, answer: make(chan bool, 1)}
	a.mu.Lock()
	if _, dup := a.pending[stepID]; dup {
		a.mu.Unlock()
		return false, fmt.Errorf("step %q is already waiting for approval", stepID)
	}
	a.pending[stepID] = p
	a.mu.Unlock()
	if a.OnAsk != nil {
		a.OnAsk(p.q)
	}
	defer func() {
		a.mu.Lock()
		if a.pending[stepID] == p { // not answered: take the question down
			delete(a.pending, stepID)
		}
		a.mu.Unlock()
	}()
	select {
	case ok := <-p.answer:
		return ok, nil
	case <-ctx.Done():
		return false, context.Cause(ctx)
	}
}

// Answer answers the question of step: yes lets it run, no skips it
// ("approval declined"). It fails with ErrNoQuestion when step is not
// waiting (never asked, or already answered).
func (a *Approvals) Answer(step string, yes bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pending[step]
	if !ok {
		return fmt.Errorf("step %q: %w", step, ErrNoQuestion)
	}
	delete(a.pending, step) // a second Answer finds nothing
	p.answer <- yes
	return nil
}

// Pending returns the questions waiting for an answer, oldest first.
func (a *Approvals) Pending() []Question {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Question, 0, len(a.pending))
	for _, p := range a.pending {
		out = append(out, p.q)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].Step < out[j].Step
	})
	return out
}
