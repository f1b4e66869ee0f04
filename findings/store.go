package findings

import (
	"github.com/firebreak-ir/firebreak/engine"
	"github.com/firebreak-ir/firebreak/engine/session"
)

// ForRun returns the finding as a run takes it (session.Request.Finding):
// what its expressions read as `finding` and `incident`, and the document
// exactly as it was given (envelope included), which the run's case keeps
// as its first artifact, artifacts/finding/finding.json, with the
// finding's id, type and shape (and "via" when it came through SNS).
func (f *Finding) ForRun() *session.Finding {
	return &session.Finding{Object: f.Object, Incident: f.Incident, Raw: f.Raw, Meta: engine.ArtifactMeta{
		Name: "finding.json", Kind: "finding", ContentType: "application/json",
		Source: f.source(),
	}}
}

// source is the finding artifact's metadata: id, type, shape, and how it
// was delivered when it came through SNS.
func (f *Finding) source() map[string]string {
	src := map[string]string{"finding_id": f.incident("finding_id"), "type": f.Type(), "shape": f.Shape}
	if f.Via != "" {
		src["via"] = f.Via
	}
	return src
}

func (f *Finding) incident(key string) string { s, _ := f.Incident[key].(string); return s }

// Env returns the finding as the engine's expressions see it, for
// loader.ResolveInputs: Finding and Incident set, the rest empty. A nil f gives an empty Env.
func (f *Finding) Env() *engine.Env {
	if f == nil {
		return &engine.Env{}
	}
	return &engine.Env{Finding: f.Object, Incident: f.Incident}
}
