package runner

import (
	"context"
	"slices"
	"time"

	"github.com/firebreak-ir/firebreak/engine"
)

// change is one state change of a unit, as every consumer sees it.
type change struct {
	u       unit
	status  engine.StepStatus
	attempt int
	err     string
	reason  string
	outputs engine.Outputs
	count   *int // a for_each step starting: its number of items
	retryIn time.Duration
	took    time.Duration
	event   string // custody event, "" for none
	detail  map[string]any
}

// record writes c to the journal (buffered: flushed before anything is
// started), the custody log, the case's step record and the observer.
// It reports false when c's outputs cannot be encoded in the journal.
func (r *run) record(ctx context.Context, c change) bool {
	st, now := c.u.st, r.cfg.now()
	if r.jr != nil {
		e := &entry{Kind: kindStep, Time: now, Step: st.step.ID, Action: st.step.Action, Status: string(c.status),
			Attempt: c.attempt, Error: c.err, Reason: c.reason, Outputs: c.outputs, Count: c.count}
		if c.u.index >= 0 {
			i := c.u.index
			e.Kind, e.Index, e.Key = kindItem, &i, st.items[i].key
		}
		if err := r.jr.add(e); err != nil {
			return false
		}
	}
	if c.event != "" {
		r.event(ctx, c.event, st.step.ID, c.detail)
	}
	if r.cfg.Case != nil {
		rec := st.rec
		rec.Items = slices.Clone(rec.Items) // the case may keep it; the coordinator goes on changing ours
		r.cfg.Case.SetStep(rec)
	}
	if r.cfg.Observer != nil {
		r.cfg.Observer(StepEvent{RunID: r.cfg.RunID, Step: st.step.ID, Action: st.step.Action, Item: c.u.index,
			Status: c.status, Attempt: c.attempt, Error: c.err, SkipReason: c.reason, Time: now,
			Duration: c.took, RetryIn: c.retryIn, Finally: st.step.Finally})
	}
	return true
}

// event appends a custody event. A custody log that cannot be written is
// logged, not fatal: stopping containment half-way because the evidence
// store hiccuped would do more harm than a gap the log makes visible.
func (r *run) event(ctx context.Context, name, step string, detail map[string]any) {
	if r.cfg.Case == nil {
		return
	}
	if err := r.cfg.Case.Event(context.WithoutCancel(ctx), name, step, detail); err != nil {
		r.log.Error("custody event not recorded", keyStep, step, keyReason, name, keyError, err)
	}
}

// unitRecord is the record a unit's changes apply to: the step's, or its item's.
func unitRecord(u unit) *engine.StepRecord {
	if u.index >= 0 {
		return &u.st.rec.Items[u.index]
	}
	return &u.st.rec
}

// logEnd logs the end of a unit at Info, with how long it ran.
func (r *run) logEnd(u unit, rec *engine.StepRecord, took time.Duration) {
	attrs := []any{keyStep, u.st.step.ID, keyAction, u.st.step.Action, keyStatus, string(rec.Status), keyDuration, took}
	if u.index >= 0 {
		attrs = append(attrs, keyItem, u.index)
	}
	if rec.Attempts > 1 {
		attrs = append(attrs, keyAttempt, rec.Attempts)
	}
	switch {
	case rec.Error != "":
		attrs = append(attrs, keyError, firstLine(rec.Error))
	case rec.SkipReason != "":
		attrs = append(attrs, keyReason, rec.SkipReason)
	}
	r.log.Info("step ended", attrs...)
}

func firstLine(s string) string {
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

func errDetail(err string) map[string]any {
	if err == "" {
		return nil
	}
	return map[string]any{"error": err}
}

func itemDetail(u unit, extra map[string]any) map[string]any {
	if u.index < 0 {
		return extra
	}
	d := map[string]any{"item": u.index}
	for k, v := range extra {
		d[k] = v
	}
	return d
}
