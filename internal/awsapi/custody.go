package awsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

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
