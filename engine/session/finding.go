package session

import (
	"bytes"
	"context"
	"fmt"

	"github.com/firebreak-ir/firebreak/engine"
)

// FindingStep is the step name under which a run's finding is stored:
// artifacts/finding/NAME.
const FindingStep = "finding"

// Finding is the security finding a run starts from, as plain data: what
// the run's expressions read, and the document itself, which the case
// keeps as its first artifact. The findings package makes one from any
// shape it reads.
type Finding struct {
	// Object and Incident are `finding` and `incident` in expressions.
	Object, Incident map[string]any
	// Raw is the document exactly as it was given; Meta names it in the
	// case (Name, Kind, ContentType, Source).
	Raw  []byte
	Meta engine.ArtifactMeta
}

// put stores the finding as an artifact of step FindingStep.
func (f *Finding) put(ctx context.Context, rec engine.Recorder, caseID string) error {
	if _, err := rec.Evidence(FindingStep).Put(ctx, f.Meta, bytes.NewReader(f.Raw)); err != nil {
		return fmt.Errorf("storing the finding %q in case %q: %w", f.Meta.Source["finding_id"], caseID, err)
	}
	return nil
}
