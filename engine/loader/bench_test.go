package loader

import (
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// BenchmarkLoad loads the host-compromise example: parse, checks and compiling every
// expression. Compare with BenchmarkYAMLOnly, the bare parse it starts
// from, to see what validation costs on top.
func BenchmarkLoad(b *testing.B) {
	data, err := os.ReadFile("testdata/valid/host-compromise.yaml")
	if err != nil {
		b.Fatal(err)
	}
	l := &Loader{Registry: testRegistry()}
	for b.Loop() {
		if _, err := l.LoadBytes("x.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkYAMLOnly(b *testing.B) {
	data, err := os.ReadFile("testdata/valid/host-compromise.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			b.Fatal(err)
		}
	}
}
