package evidence_test

import (
	"testing"

	"github.com/firebreak-ir/firebreak/engine/evidence"
	"github.com/firebreak-ir/firebreak/engine/evidence/storetest"
)

// TestDirStoreConformance: the directory store keeps the Store contract.
func TestDirStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.TestStore(t, func(t *testing.T) func() evidence.Store {
		dir := t.TempDir()
		return func() evidence.Store {
			s, err := evidence.NewDirStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}
