package cli

import (
	"os"
	"testing"
)

// TestBenchOnlyRejectsUnknownName: a typo in --only is a usage error that
// names the benchmarks there are, not an empty table.
func TestBenchOnlyRejectsUnknownName(t *testing.T) {
	s := newSandbox(t)
	s.bin = labBin.Path(t)
	r := s.run("bench", "--only", "schedular").want(t, 2)
	want := "firebreak: --only: unknown benchmark \"schedular\": want one of scheduler, memory, host, fleet\n"
	if r.stderr != want || r.stdout != "" {
		t.Fatalf("got stderr %q, stdout %q; want stderr %q alone", r.stderr, r.stdout, want)
	}
	if entries, _ := os.ReadDir(s.dir); len(entries) != 0 {
		t.Errorf("a refused bench left %d file(s) in the working dir", len(entries))
	}
}
