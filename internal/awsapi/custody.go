package awsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/firebreak-ir/firebreak/engine"
)

// Custody event names AWS actions write.
const (
	// EventChange records one AWS change an action made.
	EventChange = "aws-change"
	// EventGap records evidence that could not be collected because the
	// endpoint does not implement the call.
	EventGap = "gap"
)

// Change records one AWS change as a custody event: call is
// "service:Operation", detail says on what and to what. Record it after the
// call succeeded, so the chain never claims a change that was not made.
func Change(ctx context.Context, ev engine.Evidence, call string, detail map[string]any) error {
	d := map[string]any{"call": call}
	for k, v := range detail {
		d[k] = v
	}
	if err := ev.Event(ctx, EventChange, d); err != nil {
		return fmt.Errorf("recording %s in the custody log: %w", call, err)
	}
	return nil
}

// Gap records that call could not be made here (err says why, usually
// "not implemented") as a custody event, so the manifest shows what is
// missing instead of silently lacking it.
func Gap(ctx context.Context, ev engine.Evidence, call string, cause error, detail map[string]any) error {
	d := map[string]any{"call": call, "reason": cause.Error()}
	for k, v := range detail {
		d[k] = v
	}
	if err := ev.Event(ctx, EventGap, d); err != nil {
		return fmt.Errorf("recording the gap for %s in the custody log: %w", call, err)
	}
	return nil
}

// PutJSON stores v, indented, as a JSON artifact.
func PutJSON(ctx context.Context, ev engine.Evidence, meta engine.ArtifactMeta, v any) (engine.Artifact, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // evidence keeps "<", ">" and "&" as they were, e.g. in user data
	if err := enc.Encode(v); err != nil {
		return engine.Artifact{}, fmt.Errorf("encoding artifact %q: %w", meta.Name, err)
	}
	if meta.ContentType == "" {
		meta.ContentType = "application/json"
	}
	a, err := ev.Put(ctx, meta, &b)
	if err != nil {
		return engine.Artifact{}, fmt.Errorf("storing artifact %q: %w", meta.Name, err)
	}
	return a, nil
}

// PlanEvidence stands in for a step's evidence where there is none: a
// planner reads through the same code as its action, and what that code
// would record (a gap found while planning) is dropped; the plan's notes
// say it instead. Put is refused: a plan stores nothing.
var PlanEvidence engine.Evidence = planEvidence{}

type planEvidence struct{}

func (planEvidence) Put(context.Context, engine.ArtifactMeta, io.Reader) (engine.Artifact, error) {
	return engine.Artifact{}, fmt.Errorf("a plan stores no evidence")
}
func (planEvidence) Record(context.Context, engine.Artifact) error       { return nil }
func (planEvidence) Event(context.Context, string, map[string]any) error { return nil }

// PlanValue shows a parameter as a plan prints it: a value not known
// before the run as <runtime: EXPR>, a missing one as <none>.
func PlanValue(v any) string {
	switch x := v.(type) {
	case engine.Unknown:
		return x.String()
	case nil:
		return "<none>"
	default:
		return engine.Format(x)
	}
}
