package findings

import (
	"bytes"
	"context"
	"fmt"

	"github.com/firebreak-ir/firebreak/engine"
)

// StepID is the step name under which a run's finding is stored:
// artifacts/finding/finding.json.
const StepID = "finding"

// Put stores the finding, exactly as it was given (envelope included), as
// an artifact of ev; a run started from a finding calls it first, with its
// case's Evidence(StepID), so that the finding is the case's first piece
// of evidence. Storing it twice (a resume) stores the same bytes again.
func Put(ctx context.Context, ev engine.Evidence, f *Finding) (engine.Artifact, error) {
	meta := engine.ArtifactMeta{
		Name: "finding.json", Kind: "finding", ContentType: "application/json",
		Source: map[string]string{"finding_id": f.incident("finding_id"), "type": f.Type(), "shape": f.Shape},
	}
	a, err := ev.Put(ctx, meta, bytes.NewReader(f.Raw))
	if err != nil {
		return engine.Artifact{}, fmt.Errorf("storing the finding %q: %w", f.incident("finding_id"), err)
	}
	return a, nil
}

func (f *Finding) incident(key string) string { s, _ := f.Incident[key].(string); return s }

// Env returns the finding as the engine's expressions see it, for
// loader.ResolveInputs and runner.Config: Finding and Incident set, the
// rest empty. A nil f gives an empty Env.
func (f *Finding) Env() *engine.Env {
	if f == nil {
		return &engine.Env{}
	}
	return &engine.Env{Finding: f.Object, Incident: f.Incident}
}
