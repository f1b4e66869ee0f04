package loader

import (
	"encoding/json"
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

// FuzzInputsFile feeds ReadInputsFile arbitrary bytes: it must never
// panic, must return a map or an error wrapping engine.ErrInvalidInput,
// and what it returns must stay within the expansion budget however the
// file aliases its values.
func FuzzInputsFile(f *testing.F) {
	for _, s := range []string{
		"instance_id: i-1\nports: [22, 80]\nflags: {a: true}\n", `{"instance_id": "i-1", "n": 3}`, "", "- a\n- b\n",
		"a: &x [1, 2, 3]\nb: [*x, *x, *x]\n", "a: &x " + "yyyyyyyyyy" + "\nb: [*x, *x]\n", "a: *x\n", "a: !!binary aGk=\n",
		"a: {b: {c: {d: [1, {e: f}]}}}\n", "? [a]\n: b\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "in.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadInputsFile(path)
		if err != nil {
			if got != nil || !errors.Is(err, engine.ErrInvalidInput) {
				t.Fatalf("got %v and %T %v", got, err, err)
			}
			return
		}
		if got == nil {
			t.Fatal("nil map and no error")
		}
		b, err := json.Marshal(got)
		if err == nil && len(b) > 8*MaxInputsBytes {
			t.Fatalf("%d bytes of inputs from a %d-byte file", len(b), len(data))
		}
	})
}
