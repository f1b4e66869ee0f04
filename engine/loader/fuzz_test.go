package loader

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/firebreak-ir/firebreak/engine/graph"
)

// FuzzLoad feeds the loader arbitrary bytes, seeded with every broken and
// valid playbook in testdata: it must never panic, must return either a
// playbook whose graph builds or positioned *Errors, never both.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/invalid/*.yaml", "testdata/valid/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	l := &Loader{Registry: testRegistry()}
	f.Fuzz(func(t *testing.T, data []byte) {
		pb, err := l.LoadBytes("fuzz.yaml", data)
		if err != nil {
			var errs *Errors
			if pb != nil || !errors.As(err, &errs) || len(errs.List) == 0 {
				t.Fatalf("got playbook %v and error %T %v", pb != nil, err, err)
			}
			for _, e := range errs.List {
				if e.Pos.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("unplaced or empty error %#v", e)
				}
			}
			return
		}
		if pb.Name == "" || len(pb.Steps) == 0 {
			t.Fatalf("accepted a playbook without name or steps")
		}
		if _, err := graph.Build(pb.Steps); err != nil {
			t.Fatalf("accepted a playbook whose graph fails: %v", err)
		}
		if _, err := graph.Build(pb.Finally); err != nil {
			t.Fatalf("accepted a playbook whose finally graph fails: %v", err)
		}
	})
}
