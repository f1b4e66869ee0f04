package plan

import (
	"github.com/firebreak-ir/firebreak/engine"
)

// falseConjunct looks for a part of a top-level `a && b && ...` condition
// that reads no step and is false from the inputs alone: then the whole
// condition is false whatever the steps give, and the step is a plain skip.
// This is what lets `inputs.terminate && steps.x.status == "succeeded"` be
// planned as skipped when terminate is false. It returns why, in the words
// the runner uses for a skip (engine.Explain).
func (b *builder) falseConjunct(w *engine.Expr) (string, bool) {
	if w.Program == nil {
		return "", false
	}
	for _, part := range w.Parts() {
		if len(part.Steps) > 0 || usesIdent(part, "item", "index", "failed", "succeeded", "always") {
			continue
		}
		env := b.env(nil, 0)
		if ok, err := part.EvalBool(env); err == nil && !ok {
			return engine.Explain(part, env), true
		}
	}
	return "", false
}
