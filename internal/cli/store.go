package cli

import (
	"context"

	"github.com/firebreak-ir/firebreak/engine/evidence"
)

// stores returns the schemes evidence locations open with: a local
// directory (made when missing) and those registerStores adds.
func (st *cliState) stores() *evidence.Schemes {
	st.schemesOnce.Do(func() {
		st.schemes = evidence.NewSchemes()
		st.registerStores(st.schemes)
	})
	return st.schemes
}

// openStore opens the evidence store at loc.
func (st *cliState) openStore(ctx context.Context, loc evidence.Location) (evidence.Store, error) {
	return st.stores().OpenLocation(ctx, loc)
}

// evidenceLocation reads an --evidence value, made absolute so that a
// resume from another working directory finds the same evidence.
func evidenceLocation(s string) (evidence.Location, error) {
	loc, err := evidence.ParseLocation(s)
	if err == nil {
		loc, err = loc.Abs()
	}
	if err != nil {
		return evidence.Location{}, usageErrorf("--evidence: %v", err)
	}
	return loc, nil
}
