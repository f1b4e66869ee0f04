package cli

import (
	"os"
	"strings"
	"testing"
)

// TestMalformedEvidenceLocations: a mistyped location is a usage error
// from the parser (exit 2), never a local directory named "s3:".
func TestMalformedEvidenceLocations(t *testing.T) {
	s := newSandbox(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"one slash", []string{"run", "local-check", "--evidence", "s3:/bucket"}, `--evidence: location "s3:/bucket": want s3://BUCKET or s3://BUCKET/PREFIX`},
		{"upper-case scheme", []string{"run", "local-check", "--evidence", "S3://bucket"}, `the scheme "S3" must be lower case`},
		{"no bucket", []string{"run", "local-check", "--evidence", "s3://"}, `location "s3://" names no bucket`},
		{"unknown scheme", []string{"run", "local-check", "--evidence", "gs://bucket"}, `evidence location "gs://bucket": no store for gs:// here; known: file, s3`},
		{"verify, one slash", []string{"verify", "s3:/bucket/case"}, `verify: location "s3:/bucket/case": want s3://BUCKET`},
		{"verify, no case", []string{"verify", "s3://bucket"}, `verify "s3://bucket": want s3://bucket/CASE_ID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.run(tt.args...).want(t, 2)
			contains(t, tt.name, r.stderr, tt.want)
		})
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(strings.ToLower(e.Name()), "s3:") || e.Name() == "evidence" {
			t.Errorf("a malformed location made %q in the working directory", e.Name())
		}
	}
}
