package loader

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/firebreak-ir/firebreak/engine"
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
		main, fin, err := pb.Graphs()
		if err != nil {
			t.Fatalf("accepted a playbook without its graphs: %v", err)
		}
		// The loader's graphs are those of the steps it returns.
		for _, b := range []struct {
			g     *graph.Graph
			steps []*engine.Step
		}{{main, pb.Steps}, {fin, pb.Finally}} {
			again, err := engine.GraphOf(b.steps)
			if err != nil {
				t.Fatalf("accepted a playbook whose graph fails: %v", err)
			}
			if !reflect.DeepEqual(again.Waves(), b.g.Waves()) {
				t.Fatalf("the loader's graph has waves %v, its steps %v", b.g.Waves(), again.Waves())
			}
		}
	})
}
