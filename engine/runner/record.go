package runner

import (
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

// record hands c to the driver (journal, custody log, the case's step
// record, the observer). It reports false when c's outputs cannot be
// recorded.
func (m *machine) record(c change) bool {
	return m.drv.Record(m.export(c))
}

// export is c as a driver sees it.
func (m *machine) export(c change) Change {
	st := c.u.st
	rec := st.rec
	rec.Items = slices.Clone(rec.Items) // the driver may keep it; the machine goes on changing ours
	out := Change{Step: st.step.ID, Action: st.step.Action, Item: c.u.index, Finally: st.step.Finally,
		Status: c.status, Attempt: c.attempt, Error: c.err, Reason: c.reason, Outputs: c.outputs, Count: c.count,
		RetryIn: c.retryIn, Took: c.took, Event: c.event, Detail: c.detail, Record: rec}
	if c.u.index >= 0 {
		out.ItemKey = st.items[c.u.index].key
	}
	return out
}

// unitRecord is the record a unit's changes apply to: the step's, or its item's.
func unitRecord(u unit) *engine.StepRecord {
	if u.index >= 0 {
		return &u.st.rec.Items[u.index]
	}
	return &u.st.rec
}

// logEnd logs the end of a unit at Info, with how long it ran.
func (m *machine) logEnd(u unit, rec *engine.StepRecord, took time.Duration) {
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
	m.log.Info("step ended", attrs...)
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
